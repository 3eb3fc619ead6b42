import { Client } from 'minio';
import { mkdirSync } from 'node:fs';
import S3rver from 's3rver';
import { freePort } from './free-port';

export interface S3Handle {
  endpoint: string;
  accessKey: string;
  secretKey: string;
  createBucket(name: string): Promise<void>;
  stop(): Promise<void>;
}

/** s3rver's fixed credentials (it does not verify signatures; see TOOLCHAIN.md). */
const S3RVER_KEY = 'S3RVER';

/** An S3-protocol server on loopback (s3rver), or a handle on an external one (MinIO). */
export async function startS3(options: { dataDir: string; port?: number; external?: { endpoint: string; accessKey: string; secretKey: string } }): Promise<S3Handle> {
  if (options.external) return handle(options.external, async () => undefined);
  const port = options.port ?? (await freePort());
  mkdirSync(options.dataDir, { recursive: true });
  const server = new S3rver({ port, address: '127.0.0.1', directory: options.dataDir, silent: true });
  await server.run();
  return handle({ endpoint: `http://127.0.0.1:${port}`, accessKey: S3RVER_KEY, secretKey: S3RVER_KEY }, () => server.close());
}

function handle(s3: { endpoint: string; accessKey: string; secretKey: string }, stop: () => Promise<void>): S3Handle {
  const url = new URL(s3.endpoint);
  const client = new Client({
    endPoint: url.hostname, port: url.port ? Number(url.port) : undefined, useSSL: url.protocol === 'https:',
    accessKey: s3.accessKey, secretKey: s3.secretKey, pathStyle: true, region: 'us-east-1',
  });
  return {
    ...s3,
    createBucket: async (name) => {
      if (!(await client.bucketExists(name))) await client.makeBucket(name);
    },
    stop,
  };
}
