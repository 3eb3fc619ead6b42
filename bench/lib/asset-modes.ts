import type { Client } from 'minio';
import { s3Client } from '../../libs/platform/src/infra/s3';
import type { BenchStack } from './bench-stack';
import { bodySha256, getBody, putBody } from './asset-io';

/**
 * One way to move an asset's bytes: through the gateway, or straight to S3 with a presigned URL.
 * Both use the same client code (asset-io), so the only difference measured is the path.
 * Every method throws when the bytes were not stored or served exactly.
 */
export interface TransferMode {
  name: 'gateway' | 'direct';
  upload(key: string, bytes: number): Promise<void>;
  /** `verify`: hash the bytes and compare with what was uploaded (costs CPU here, so not timed). */
  download(key: string, bytes: number, verify: boolean): Promise<void>;
}

/** Where the section works: gateway A as the admin, in a repository of its own, and the stack's S3. */
export interface AssetTarget {
  url: string;
  session: string;
  repo: string;
}

/** Gateway mode: `PUT|GET /api/v1/repos/{repo}/assets/bench/{key}`, as a release tool would. */
export function gatewayMode(target: AssetTarget, uploaded: Set<string>): TransferMode {
  const assetUrl = (key: string) => `${target.url}/api/v1/repos/${target.repo}/assets/bench/${key}`;
  const auth = { authorization: `Bearer ${target.session}` };
  return {
    name: 'gateway',
    upload: async (key, bytes) => {
      const { status, text } = await putBody(assetUrl(key), bytes, auth);
      if (status !== 201) throw new Error(`gateway PUT ${key}: ${status} ${text.slice(0, 200)}`);
      uploaded.add(key);
      const asset = JSON.parse(text) as { size: number; sha256: string };
      if (asset.size !== bytes || asset.sha256 !== bodySha256(bytes)) throw new Error(`gateway PUT ${key}: stored ${asset.size} bytes, sha256 ${asset.sha256}`);
    },
    download: async (key, bytes, verify) => checkDownload(`gateway GET ${key}`, await getBody(assetUrl(key), auth, verify), bytes),
  };
}

/** Direct mode: the same bytes to the same S3 server, through URLs presigned here (a throwaway key). */
export function directMode(client: Client, bucket: string): TransferMode {
  const objectKey = (key: string) => `bench-direct/${key}`;
  return {
    name: 'direct',
    upload: async (key, bytes) => {
      const url = await client.presignedPutObject(bucket, objectKey(key), 3600);
      const { status, text } = await putBody(url, bytes);
      if (status !== 200) throw new Error(`direct PUT ${key}: ${status} ${text.slice(0, 200)}`);
    },
    download: async (key, bytes, verify) => {
      const url = await client.presignedGetObject(bucket, objectKey(key), 3600);
      checkDownload(`direct GET ${key}`, await getBody(url, {}, verify), bytes);
    },
  };
}

function checkDownload(what: string, got: { status: number; bytes: number; sha256: string | null }, bytes: number): void {
  if (got.status !== 200) throw new Error(`${what}: ${got.status}`);
  if (got.bytes !== bytes) throw new Error(`${what}: ${got.bytes} bytes, not ${bytes}`);
  if (got.sha256 !== null && got.sha256 !== bodySha256(bytes)) throw new Error(`${what}: sha256 ${got.sha256}, not the upload's`);
}

/** Both modes on one stack, and a way to empty S3 between rounds (s3rver keeps every object on disk). */
export function assetModes(stack: BenchStack, target: AssetTarget): { gateway: TransferMode; direct: TransferMode; clear(): Promise<void> } {
  const client = s3Client(stack.s3);
  const uploaded = new Set<string>();
  return {
    gateway: gatewayMode(target, uploaded),
    direct: directMode(client, stack.s3.bucket),
    clear: async () => {
      // Deleting an asset keeps its object for GANTRY_ASSET_GARBAGE_DELAY_SECONDS (900): remove the
      // records through the API, then every object directly, so the disk never holds more than a round.
      for (const key of uploaded) {
        const response = await fetch(`${target.url}/api/v1/repos/${target.repo}/assets/bench/${key}`, { method: 'DELETE', headers: { authorization: `Bearer ${target.session}` } });
        if (response.status !== 204) throw new Error(`DELETE ${key}: ${response.status}`);
      }
      uploaded.clear();
      for (const name of await objectNames(client, stack.s3.bucket)) await client.removeObject(stack.s3.bucket, name);
    },
  };
}

async function objectNames(client: Client, bucket: string): Promise<string[]> {
  const names: string[] = [];
  for await (const item of client.listObjects(bucket, '', true) as AsyncIterable<{ name?: string }>) if (item.name) names.push(item.name);
  return names;
}
