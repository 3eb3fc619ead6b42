import type { INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Transport, type MicroserviceOptions } from '@nestjs/microservices';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import pino from 'pino';
import { AssetsRequests, type Actor, type ResponseOf } from '#contracts';
import { Database, natsAuth, RpcClient, type RequestContext } from '#platform';
import type { TestInfra } from '#platform/testing/test-infra';
import { AssetsModule, ASSETS_SCHEMA } from '../app.module';
import { loadAssetsConfig, type AssetsConfig } from '../config';
import { AssetSweeper } from '../garbage/asset-sweeper';

/** The assets service in this process, on a test file's own infrastructure, driven over NATS. */
export interface AssetsHarness {
  app: INestMicroservice;
  config: AssetsConfig;
  rpc: RpcClient;
  nc: NatsConnection;
  db: Database;
  sweeper: AssetSweeper;
  /** Every log line the service wrote. */
  logs: string[];
  /** Closes the service (its shutdown hooks) and the test's own connections. */
  stop(): Promise<void>;
}

export const UPLOADER: Actor = { kind: 'ci_job', id: '0190a0a0-0000-7000-8000-0000000000c1', name: 'acme/widgets#12' };
export const AS_UPLOADER: Partial<RequestContext> = { actor: UPLOADER, requestId: 'req-assets-test' };

export async function startAssets(infra: TestInfra, env: Record<string, string> = {}): Promise<AssetsHarness> {
  const config = loadAssetsConfig({
    // As deployed: the assets NATS user and database role (the test's own connections are admin and superuser).
    GANTRY_NATS_URL: infra.nats.url, GANTRY_NATS_USER: infra.credentials.nats.assets.user, GANTRY_NATS_PASSWORD: infra.credentials.nats.assets.pass,
    GANTRY_DATABASE_URL: infra.credentials.databaseUrls.assets, GANTRY_DATABASE_POOL_SIZE: '8',
    GANTRY_S3_ENDPOINT: infra.s3.endpoint, GANTRY_S3_ACCESS_KEY: infra.s3.accessKey, GANTRY_S3_SECRET_KEY: infra.s3.secretKey,
    GANTRY_S3_BUCKET: infra.s3.bucket, GANTRY_RELAY_POLL_MS: '100',
    // Tests sweep by calling sweep(): no timer pass in between to race their assertions.
    GANTRY_ASSET_SWEEP_MS: '3600000',
    ...env,
  });
  const logs: string[] = [];
  const sink = new Writable({ write: (chunk, _encoding, done) => void (logs.push(String(chunk)), done()) });
  const logger = pino({ level: 'debug' }, sink);
  const app = await NestFactory.createMicroservice<MicroserviceOptions>(AssetsModule.forRoot(config, logger), {
    transport: Transport.NATS,
    options: { servers: config.GANTRY_NATS_URL, ...natsAuth(config), queue: 'assets', name: 'assets-test' },
    logger: false,
  });
  await app.listen();
  const nc = await connect({ servers: infra.nats.url, ...infra.nats.admin, name: 'assets-test-client' });
  const db = new Database({ url: infra.databaseUrl, schema: ASSETS_SCHEMA, poolSize: 4, applicationName: 'assets-test' });
  const stop = async () => {
    await app.close();
    await nc.close();
    await db.close();
  };
  return { app, config, rpc: new RpcClient(nc, 10_000), nc, db, sweeper: app.get(AssetSweeper), logs, stop };
}

export const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

type Authorized = ResponseOf<typeof AssetsRequests.authorizeUpload>;

/** What the gateway does for one PUT: authorize, stream the bytes to the presigned URL, complete. */
export async function upload(
  rpc: RpcClient, repoId: string, path: string, bytes: Uint8Array,
  options: { ifNoneMatch?: boolean; ifMatch?: string | null; contentType?: string } = {},
): Promise<ResponseOf<typeof AssetsRequests.completeUpload>> {
  const authorized = await authorize(rpc, repoId, path, bytes.length, options);
  await putBytes(authorized, bytes);
  return rpc.request(AssetsRequests.completeUpload, { uploadId: authorized.uploadId, size: bytes.length, sha256: sha256(bytes) }, AS_UPLOADER);
}

export function authorize(rpc: RpcClient, repoId: string, path: string, size: number, options: { ifNoneMatch?: boolean; ifMatch?: string | null; contentType?: string } = {}): Promise<Authorized> {
  return rpc.request(AssetsRequests.authorizeUpload, {
    repoId, path, size, contentType: options.contentType ?? 'application/octet-stream', ifNoneMatch: options.ifNoneMatch ?? false, ifMatch: options.ifMatch ?? null,
  }, AS_UPLOADER);
}

export async function putBytes(authorized: Authorized, bytes: Uint8Array): Promise<void> {
  const response = await fetch(authorized.url, { method: 'PUT', body: bytes });
  if (!response.ok) throw new Error(`PUT to the presigned URL: ${response.status} ${await response.text()}`);
}

/** What the gateway does for one GET: authorize, then read the presigned URL. */
export async function download(rpc: RpcClient, repoId: string, path: string): Promise<{ asset: ResponseOf<typeof AssetsRequests.authorizeDownload>['asset']; bytes: Buffer; url: string }> {
  const { asset, url } = await rpc.request(AssetsRequests.authorizeDownload, { repoId, path });
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET from the presigned URL: ${response.status}`);
  return { asset, bytes: Buffer.from(await response.arrayBuffer()), url };
}
