import { Client } from 'minio';
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import S3rver from 's3rver';
import { freePort } from './free-port';

export interface S3Coordinates {
  endpoint: string;
  accessKey: string;
  secretKey: string;
}

export interface S3Handle extends S3Coordinates {
  /** Creates the bucket unless it exists. */
  createBucket(name: string): Promise<void>;
  /** Stops s3rver (a no-op for an external endpoint). */
  stop(): Promise<void>;
}

export interface S3Options {
  dataDir: string;
  port?: number;
  /** A bucket to create at start. */
  bucket?: string;
  /** Use this S3 (e.g. MinIO) instead of starting s3rver. */
  external?: S3Coordinates;
}

/** s3rver's fixed credentials (it does not verify signatures; see TOOLCHAIN.md). */
const S3RVER_KEY = 'S3RVER';
/** Far longer than any client keeps an idle socket (Node: 5 s). */
const S3RVER_KEEP_ALIVE_MS = 10 * 60_000;

/** An S3-protocol server on loopback (s3rver), or a handle on an external one. */
export async function startS3(options: S3Options): Promise<S3Handle> {
  if (options.external) {
    const external = handle(options.external, async () => undefined);
    if (options.bucket) await external.createBucket(options.bucket);
    return external;
  }
  mkdirSync(options.dataDir, { recursive: true });
  const port = options.port ?? (await freePort());
  const configureBuckets = options.bucket ? [{ name: options.bucket, configs: [] }] : [];
  const server = new S3rver({ port, address: '127.0.0.1', directory: options.dataDir, silent: true, configureBuckets });
  await server.run();
  // Node's client agents drop an idle keep-alive socket after 5 s, s3rver's server after 5 s too: a
  // client whose event loop stalled past both (a jest worker loading its next file) wrote into a
  // socket the server had just closed: ECONNRESET. Idle sockets now always end on the client side.
  const httpServer = (server as unknown as { httpServer: Server }).httpServer;
  httpServer.keepAliveTimeout = S3RVER_KEEP_ALIVE_MS;
  return handle({ endpoint: `http://127.0.0.1:${port}`, accessKey: S3RVER_KEY, secretKey: S3RVER_KEY }, () => closeS3rver(server));
}

/** close() waits for open keep-alive connections; clients of a stopping server need not be waited for. */
async function closeS3rver(server: S3rver): Promise<void> {
  const httpServer = (server as unknown as { httpServer?: Server }).httpServer;
  const closed = server.close();
  httpServer?.closeAllConnections();
  await closed;
}

/** A minio client for an S3 endpoint (path-style: s3rver and MinIO have no bucket subdomains). */
export function s3Client(s3: S3Coordinates): Client {
  const url = new URL(s3.endpoint);
  return new Client({
    endPoint: url.hostname,
    port: url.port ? Number(url.port) : undefined,
    useSSL: url.protocol === 'https:',
    accessKey: s3.accessKey,
    secretKey: s3.secretKey,
    pathStyle: true,
    region: 'us-east-1',
  });
}

/** Creates the bucket unless it exists (also when another caller creates it at the same time). */
export async function createBucketOn(s3: S3Coordinates | Client, name: string): Promise<void> {
  const client = s3 instanceof Client ? s3 : s3Client(s3);
  if (await client.bucketExists(name)) return;
  await client.makeBucket(name).catch((error: { code?: string }) => {
    if (error.code !== 'BucketAlreadyOwnedByYou' && error.code !== 'BucketAlreadyExists') throw error;
  });
}

function handle(s3: S3Coordinates, stop: () => Promise<void>): S3Handle {
  const client = s3Client(s3);
  return { ...s3, createBucket: (name) => createBucketOn(client, name), stop };
}
