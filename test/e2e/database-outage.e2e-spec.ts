import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DeliverPolicy, jetstream } from '@nats-io/jetstream';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { ACTOR_HEADER, DEADLINE_HEADER, IdentityRequests } from '../../libs/contracts/src';
import { generateToken } from '../../libs/contracts/src/tokens';
import { freePort } from '../../libs/platform/src/infra/free-port';
import { startInfra, type InfraHandle } from '../../libs/platform/src/infra/stack';
import { serviceEnv, startService, type ServiceProcess } from '../../libs/platform/src/launcher';
import { waitFor } from '../../libs/platform/src/testing/wait-for';
import { call } from '../support/gantry-stack';

/**
 * Issue #15, defects 1–3(a): what a PostgreSQL outage and a late request look like. This suite
 * runs its own PostgreSQL (it stops and restarts it) with identity and one gateway.
 */
describe('reliability: the database goes away', () => {
  let dataDir: string;
  let infra: InfraHandle;
  let identity: ServiceProcess;
  let gateway: ServiceProcess;
  let url: string;
  let nc: NatsConnection;
  let session: string;
  let adminId: string;
  const identityLog = () => readFileSync(identity.logFile, 'utf8');

  const superuser = async <T>(work: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: infra.postgres.url });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  };
  /** LISTEN sessions of identity's relay (and anything else identity listens with). */
  const listeners = () =>
    superuser(async (client) => {
      const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM pg_stat_activity WHERE query LIKE 'LISTEN %' AND datname = 'gantry'`);
      return Number(rows[0].n);
    });
  /** Only identity runs here: ready when the gateway sees NATS and identity up. */
  const ready = () =>
    waitFor(async () => {
      const { checks } = (await call(`${url}/readyz`)).body;
      return checks?.nats === 'up' && checks?.identity === 'up';
    }, { timeoutMs: 30_000, message: 'identity not ready' });
  const createPat = (name: string) => call(`${url}/api/v1/user/tokens`, { method: 'POST', token: session, body: { name, scopes: ['repo:read'] } });

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'gantry-db-outage-'));
    infra = await startInfra({ dataDir, durable: false });
    const { databaseUrl, credentials } = await infra.prepareDatabase('gantry');
    await infra.s3.createBucket('gantry');
    const admin = { username: 'admin', password: randomBytes(16).toString('base64url') };
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const env = serviceEnv(
      { natsUrl: infra.nats.url, databaseUrl, s3: { ...infra.s3, bucket: 'gantry' }, admin },
      // The relay's fallback poll is slow on purpose: an event published quickly came through LISTEN.
      { GANTRY_HOST: '127.0.0.1', GANTRY_PORT: String(port), GANTRY_RELAY_POLL_MS: '10000', GANTRY_NATS_REQUEST_TIMEOUT_MS: '3000', GANTRY_DATABASE_POOL_SIZE: '4' },
    );
    const logDir = join(dataDir, 'logs');
    identity = startService({ service: 'identity', env, credentials, logDir, root: process.cwd() });
    gateway = startService({ service: 'gateway', env, credentials, logDir, root: process.cwd() });
    await ready();
    nc = await connect({ servers: infra.nats.url, ...infra.nats.admin });
    const login = await call(`${url}/api/v1/auth/login`, { method: 'POST', body: admin });
    session = login.body.token;
    adminId = (await call(`${url}/api/v1/user`, { token: session })).body.user.id;
  });
  afterAll(async () => {
    await nc?.close();
    await gateway?.stop();
    await identity?.stop();
    await infra?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Milliseconds from a PAT create's 201 to its event on EVENTS. */
  async function publishDelay(): Promise<number> {
    const js = jetstream(nc);
    const consumer = await js.consumers.get('EVENTS', { filter_subjects: 'events.identity.pat.created', deliver_policy: DeliverPolicy.New });
    const created = await createPat(`pd-${randomUUID()}`);
    expect(created.status).toBe(201);
    const started = Date.now();
    for (;;) {
      const message = await consumer.next({ expires: 15_000 });
      if (!message) throw new Error('the event was not published within 15 s');
      if (message.json<{ data: { tokenId: string } }>().data.tokenId === created.body.id) return Date.now() - started;
    }
  }

  it('after short and long PostgreSQL restarts the relay keeps exactly its one LISTEN session and publishes at once (defect 1)', async () => {
    const baseline = await listeners();
    expect(baseline).toBeGreaterThanOrEqual(1);
    for (const downMs of [0, 2500]) {
      await infra.postgres.stop();
      await new Promise((resolve) => setTimeout(resolve, downMs));
      await infra.postgres.restart();
      await ready();
      await waitFor(async () => (await listeners()) === baseline, { timeoutMs: 20_000, message: `LISTEN sessions not back to ${baseline} after a ${downMs} ms outage` });
      await new Promise((resolve) => setTimeout(resolve, 1500)); // a doubled reconnect would show up by now
      expect([downMs, await listeners()]).toEqual([downMs, baseline]);
      expect(await publishDelay()).toBeLessThan(2000); // the 10 s poll would take longer
    }
  });

  it('while it is down, requests that need it get 503 service_unavailable with Retry-After, logged once; afterwards all is well (defect 2)', async () => {
    const logFrom = identityLog().length;
    await infra.postgres.stop();
    try {
      for (let i = 0; i < 10; i++) {
        // A token the gateway has never seen: identity must look it up in the database.
        const lookup = await call(`${url}/api/v1/user`, { token: generateToken('pat') });
        expect([lookup.status, lookup.body.error?.code, lookup.headers.get('retry-after')]).toEqual([503, 'service_unavailable', '1']);
      }
      const create = await createPat('while-down');
      expect([create.status, create.body.error?.code, create.headers.get('retry-after')]).toEqual([503, 'service_unavailable', '1']);
    } finally {
      await infra.postgres.restart();
    }
    await ready();
    await waitFor(async () => (await createPat('after')).status === 201, { timeoutMs: 20_000, message: 'creates did not recover' });
    const log = identityLog().slice(logFrom);
    expect(log.match(/database unavailable/g)?.length).toBe(1);
    expect(log).toContain('database reachable again');
    expect(log).not.toMatch(/"level":50|internal_error|failed: Error/);
  });

  it('a request whose deadline passed before the service took it is dropped, not applied late (defect 3a)', async () => {
    const pat = await createPat('late-revoke');
    expect(pat.status).toBe(201);
    const revoke = (deadline: number) => {
      const h = headers();
      h.set(DEADLINE_HEADER, String(deadline));
      h.set(ACTOR_HEADER, JSON.stringify({ kind: 'user', id: adminId, name: 'admin' }));
      const packet = JSON.stringify({ pattern: IdentityRequests.pats.revoke.subject, data: { userId: adminId, tokenId: pat.body.id }, id: randomUUID() });
      return nc.request(IdentityRequests.pats.revoke.subject, packet, { timeout: 5000, headers: h }).then((m) => m.json<{ err?: { code: string }; response?: { revokedAt: string | null } }>());
    };
    const late = await revoke(Date.now() - 1);
    expect([late.err, adminId]).toEqual([expect.objectContaining({ code: 'service_unavailable' }), expect.any(String)]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await call(`${url}/api/v1/user`, { token: pat.body.token })).status).toBe(200); // still valid: nothing happened
    const inTime = await revoke(Date.now() + 5000);
    expect(inTime.response?.revokedAt).toEqual(expect.any(String)); // the same request in time does revoke
    expect((await call(`${url}/api/v1/user`, { token: pat.body.token })).status).toBe(401);
  });
});
