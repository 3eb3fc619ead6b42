import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Client } from 'minio';
import { startNats, type NatsHandle } from '../infra/nats';

export interface TestInfra {
  /** This test file's scratch directory (logs, nats data). */
  dir: string;
  databaseUrl: string;
  s3: { endpoint: string; accessKey: string; secretKey: string; bucket: string };
  nats: NatsHandle;
  stop(): Promise<void>;
}

function shared(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run integration and e2e tests through jest (its global setup starts the servers)`);
  return value;
}

/**
 * Isolation per test file: a fresh database on the run's PostgreSQL, a fresh bucket on its S3
 * server, and a private nats-server with JetStream.
 */
export async function testInfra(): Promise<TestInfra> {
  const id = randomBytes(6).toString('hex');
  const dir = mkdtempSync(join(tmpdir(), `gantry-file-${id}-`));
  const adminUrl = shared('GANTRY_TEST_PG_URL');
  const database = `t_${id}`;
  await withClient(adminUrl, (client) => client.query(`CREATE DATABASE ${database}`));
  const s3 = { endpoint: shared('GANTRY_TEST_S3_ENDPOINT'), accessKey: shared('GANTRY_TEST_S3_ACCESS_KEY'), secretKey: shared('GANTRY_TEST_S3_SECRET_KEY'), bucket: `t-${id}` };
  const url = new URL(s3.endpoint);
  await new Client({ endPoint: url.hostname, port: Number(url.port), useSSL: false, accessKey: s3.accessKey, secretKey: s3.secretKey, pathStyle: true }).makeBucket(s3.bucket);
  const nats = await startNats({ dataDir: join(dir, 'nats') });
  const databaseUrl = new URL(adminUrl);
  databaseUrl.pathname = `/${database}`;
  return {
    dir, databaseUrl: databaseUrl.toString(), s3, nats,
    stop: async () => {
      await nats.stop();
      await withClient(adminUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`)).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
