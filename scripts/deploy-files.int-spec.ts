import { afterAll, describe, expect, it } from '@jest/globals';
import { ensureEventsStream } from '../libs/platform/src/messaging/jetstream';
import { jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from '../libs/platform/src/infra/free-port';
import { NATS_SERVICE_USERS } from '../libs/platform/src/infra/nats-permissions';
import { createDatabaseOn, dropDatabaseOn } from '../libs/platform/src/infra/postgres';
import { dropServiceRoles, DATABASE_SERVICES } from '../libs/platform/src/infra/postgres-roles';
import { acceptsConnections, findExecutable, spawnServer, waitUntilReady } from '../libs/platform/src/infra/process';
import { databasePasswordVariable, natsPasswordVariable, NATS_CONF_PATH, POSTGRES_ROLES_PATH } from './deploy-files';

/**
 * The files docker compose mounts, run here as compose runs them (no Docker engine on this
 * machine): nats-server with deploy/nats.conf and passwords in its environment; the roles script
 * with psql as the superuser, as docker-entrypoint-initdb.d does.
 */
async function query(url: string, sql: string): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

describe('deploy files, run for real', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  });

  it('deploy/nats.conf: each service logs in with the password from the environment, within its permissions; no anonymous, no admin', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gantry-nats-conf-'));
    cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
    const passwords = Object.fromEntries(NATS_SERVICE_USERS.map((user) => [user, `pw-${randomBytes(12).toString('hex')}`]));
    const env = { PATH: process.env.PATH, ...Object.fromEntries(NATS_SERVICE_USERS.map((user) => [natsPasswordVariable(user), passwords[user]])) };
    const binary = process.env.GANTRY_TEST_NATS_BIN!;
    const port = await freePort();
    const args = ['-c', NATS_CONF_PATH, '-a', '127.0.0.1', '-p', String(port), '-js', '-sd', join(dir, 'js')];

    const missing = spawnSync(binary, args, { env: { PATH: process.env.PATH }, encoding: 'utf8', timeout: 10000 });
    expect(missing.status).not.toBe(0);
    expect(missing.stderr + missing.stdout).toMatch(/GANTRY_NATS_IDENTITY_PASSWORD/);

    const server = spawnServer(binary, args, { env });
    cleanup.push(() => server.stop());
    await waitUntilReady(server, 'nats-server', () => acceptsConnections(port), 15000);
    const url = `nats://127.0.0.1:${port}`;
    await expect(connect({ servers: url })).rejects.toThrow(/Authorization Violation/);
    await expect(connect({ servers: url, user: 'admin', pass: passwords.identity })).rejects.toThrow(/Authorization Violation/);
    for (const user of NATS_SERVICE_USERS) await (await connect({ servers: url, user, pass: passwords[user], inboxPrefix: `_INBOX.${user}` })).close();

    const identity = await connect({ servers: url, user: 'identity', pass: passwords.identity, inboxPrefix: '_INBOX.identity' });
    const gateway = await connect({ servers: url, user: 'gateway', pass: passwords.gateway, inboxPrefix: '_INBOX.gateway' });
    try {
      await ensureEventsStream(identity);
      expect((await jetstream(identity).publish('events.identity.user.created', '{}')).seq).toBe(1);
      await expect(jetstream(gateway).publish('events.identity.user.created', '{}')).rejects.toThrow(/Permissions Violation/);
      // Its own security events only, acked by JetStream on its inbox.
      expect((await jetstream(gateway).publish('events.gateway.auth.denied', '{}')).seq).toBe(2);
    } finally {
      await identity.close();
      await gateway.close();
    }
  });

  it('deploy/postgres/10-gantry-roles.sh: creates the roles from the environment, hands existing schemas over, and runs again', async () => {
    const psql = findExecutable('psql', ['/usr/lib/postgresql/15/bin']);
    if (!psql) {
      console.warn('psql is not installed: the compose roles script was NOT run');
      return;
    }
    const serverUrl = process.env.GANTRY_TEST_PG_URL!;
    const database = `compose_${randomBytes(4).toString('hex')}`;
    const databaseUrl = await createDatabaseOn(serverUrl, database);
    cleanup.push(() => dropDatabaseOn(serverUrl, database).then(() => dropServiceRoles(serverUrl, 'gantry_')));
    // A database from before services had roles: identity's schema belongs to the superuser.
    await query(databaseUrl, `CREATE SCHEMA identity; CREATE TABLE identity.users (id serial PRIMARY KEY, name text); INSERT INTO identity.users (name) VALUES ('ada')`);

    const superuser = new URL(serverUrl);
    const passwords = Object.fromEntries(DATABASE_SERVICES.map((service) => [service, `pw-${randomBytes(12).toString('hex')}`]));
    const run = (extra: NodeJS.ProcessEnv = {}) =>
      spawnSync('sh', [POSTGRES_ROLES_PATH], {
        encoding: 'utf8',
        env: {
          PATH: `${process.env.PATH}:/usr/lib/postgresql/15/bin`, PGHOST: '127.0.0.1', PGPORT: superuser.port,
          POSTGRES_USER: decodeURIComponent(superuser.username), POSTGRES_DB: database,
          ...Object.fromEntries(DATABASE_SERVICES.map((service) => [databasePasswordVariable(service), passwords[service]])),
          ...extra,
        },
      });
    const first = run();
    expect({ status: first.status, stderr: first.stderr }).toEqual({ status: 0, stderr: '' });
    expect(run().status).toBe(0); // idempotent
    const missing = run({ GANTRY_DB_ASSETS_PASSWORD: '' });
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toMatch(/GANTRY_DB_ASSETS_PASSWORD is not set/);

    const as = (role: string, password: string) => {
      const url = new URL(databaseUrl);
      url.username = role;
      url.password = password;
      return url.toString();
    };
    const identity = as('gantry_identity', passwords.identity);
    const assets = as('gantry_assets', passwords.assets);
    await query(identity, `INSERT INTO identity.users (name) VALUES ('grace')`);
    expect(await query(identity, 'SELECT name FROM identity.users ORDER BY id')).toEqual([{ name: 'ada' }, { name: 'grace' }]);
    await query(assets, 'CREATE TABLE assets.assets (id int)');
    await query(as('gantry_ci', passwords['ci-runner']), 'CREATE TABLE ci.runs (id int)');
    await expect(query(assets, 'SELECT * FROM identity.users')).rejects.toMatchObject({ code: '42501' });
    await expect(query(assets, 'CREATE SCHEMA elsewhere')).rejects.toMatchObject({ code: '42501' });
    expect(await query(databaseUrl, `SELECT rolname FROM pg_roles WHERE rolname LIKE 'gantry\\_%' AND rolcanlogin AND NOT rolsuper ORDER BY 1`)).toEqual([
      { rolname: 'gantry_assets' }, { rolname: 'gantry_ci' }, { rolname: 'gantry_identity' },
    ]);
  });
});
