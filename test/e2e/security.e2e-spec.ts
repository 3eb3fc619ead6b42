import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { natsInboxPrefix, type NatsServiceUser } from '../../libs/platform/src/infra/nats-permissions';
import { readEventsStream } from '../../libs/platform/src/testing/stream-reader';
import { waitFor } from '../../libs/platform/src/testing/wait-for';
import { login, startGantry, type GantryStack } from '../support/gantry-stack';

/**
 * Least privilege on the bus and the database, against the running product: each service's own
 * NATS user (nats-permissions.ts) and PostgreSQL role (postgres-roles.ts), as the launcher hands
 * them out. Probe connections are named `…-probe`: the stack's stop() ignores their violations
 * (and fails on any by the services themselves).
 */
describe('least privilege: NATS users and PostgreSQL roles per service', () => {
  let stack: GantryStack;
  let admin: NatsConnection;
  const probes: NatsConnection[] = [];

  /** A connection with a service's credentials (and its inbox prefix, as the service has). */
  const as = async (user: NatsServiceUser) => {
    const { pass } = stack.infra.credentials.nats[user];
    const nc = await connect({ servers: stack.infra.nats.url, user, pass, inboxPrefix: natsInboxPrefix(user), name: `${user}-probe` });
    probes.push(nc);
    return nc;
  };
  /** Resolves with the error the server closed the subscription with (or null if it stayed open). */
  const subscribeRefused = async (nc: NatsConnection, subject: string, queue?: string) => {
    const sub = nc.subscribe(subject, { queue });
    await nc.flush();
    const closed = await Promise.race([sub.closed, new Promise((resolve) => setTimeout(() => resolve('open'), 1000))]);
    sub.unsubscribe();
    return closed instanceof Error ? closed.message : null;
  };
  /** Waits until the server logged a publish violation of `user` on `subject`. */
  const publishRefused = (user: string, subject: string) =>
    waitFor(() => stack.infra.nats.violations().some((line) => line.includes(`Publish Violation - User "${user}", Subject "${subject}"`)), {
      timeoutMs: 5000, message: `no publish violation logged for ${user} on ${subject}`,
    });
  const query = async (url: string, sql: string) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query(sql)).rows;
    } finally {
      await client.end();
    }
  };

  beforeAll(async () => {
    stack = await startGantry();
    admin = await connect({ servers: stack.infra.nats.url, ...stack.infra.nats.admin });
  });
  afterAll(async () => {
    await Promise.allSettled(probes.map((nc) => nc.close()));
    await admin?.close();
    await stack?.stop();
  });

  it('refuses anonymous connections and wrong passwords', async () => {
    await expect(connect({ servers: stack.infra.nats.url, name: 'anonymous-probe' })).rejects.toThrow(/Authorization Violation/);
    await expect(connect({ servers: stack.infra.nats.url, user: 'gateway', pass: stack.infra.credentials.nats.identity.pass, name: 'wrong-probe' }))
      .rejects.toThrow(/Authorization Violation/);
  });

  it('runs every service connection (its own and the Nest transport\'s) as that service\'s user', async () => {
    const connz = (await (await fetch(`${stack.infra.nats.monitorUrl}/connz?auth=true&limit=1024`)).json()) as { connections: { name?: string; authorized_user?: string }[] };
    const byName = connz.connections.filter((c) => c.name && !c.name.endsWith('-probe')).map((c) => [c.name!.replace(/(-rpc)?-\d+$/, ''), c.authorized_user]);
    // identity, assets and ci-runner: the service's connection and the transport's; the gateway's own.
    for (const service of ['identity', 'assets', 'ci-runner', 'gateway']) {
      const users = byName.filter(([name]) => name === service).map(([, user]) => user);
      expect({ service, users: [...new Set(users)], count: users.length >= (service === 'gateway' ? 1 : 2) }).toEqual({ service, users: [service], count: true });
    }
  });

  it('a service\'s credentials cannot serve another service\'s requests', async () => {
    const gateway = await as('gateway');
    expect(await subscribeRefused(gateway, 'identity.auth.login.v1', 'identity')).toMatch(/Permissions Violation for Subscription to "identity.auth.login.v1"/);
    expect(await subscribeRefused(gateway, 'identity.auth.resolve.v1')).toMatch(/Permissions Violation/);
    const assets = await as('assets');
    expect(await subscribeRefused(assets, 'identity.ci_token.issue.v1', 'identity')).toMatch(/Permissions Violation/);
    expect(await subscribeRefused(assets, 'ci.run.trigger.v1', 'ci-runner')).toMatch(/Permissions Violation/);
    const ci = await as('ci-runner');
    expect(await subscribeRefused(ci, 'assets.upload.authorize.v1', 'assets')).toMatch(/Permissions Violation/);
    // Its own subjects it may serve.
    expect(await subscribeRefused(assets, 'assets.health.ping.v1', 'assets')).toBeNull();
  });

  it('no service reads another\'s replies (tokens, passwords in flight) or overhears the login requests', async () => {
    const gateway = await as('gateway');
    expect(await subscribeRefused(gateway, '_INBOX.>')).toMatch(/Permissions Violation/);
    expect(await subscribeRefused(gateway, '_INBOX.ci-runner.>')).toMatch(/Permissions Violation/);
    const ci = await as('ci-runner');
    expect(await subscribeRefused(ci, '_INBOX.gateway.>')).toMatch(/Permissions Violation/);
    expect(await subscribeRefused(ci, 'identity.>')).toMatch(/Permissions Violation/);
    // A service may not pick the inbox its answer goes to: only a received request's reply subject.
    const identity = await as('identity');
    identity.publish('_INBOX.gateway.stolen', 'forged');
    await identity.flush();
    await publishRefused('identity', '_INBOX.gateway.stolen');
  });

  it('the gateway cannot publish events (another service\'s or any), and the stream never holds them', async () => {
    const gateway = await as('gateway');
    const id = randomUUID();
    const forged = JSON.stringify({ id, type: 'identity.user.created', data: { username: 'mallory' } });
    gateway.publish('events.identity.user.created', forged);
    await gateway.flush();
    await publishRefused('gateway', 'events.identity.user.created');
    await expect(jetstream(gateway).publish('events.identity.user.created', forged, { msgID: id })).rejects.toThrow(/Permissions Violation for Publish to "events.identity.user.created"/);
    await expect(jetstreamManager(gateway)).rejects.toThrow(/Permissions Violation/); // no JetStream API at all
    // Nor does assets publish identity's events, nor ci-runner assets'.
    const assets = await as('assets');
    await expect(jetstream(assets).publish('events.identity.repo.deleted', forged, { msgID: randomUUID() })).rejects.toThrow(/Permissions Violation/);
    const ci = await as('ci-runner');
    await expect(jetstream(ci).publish('events.assets.asset.uploaded', forged, { msgID: randomUUID() })).rejects.toThrow(/Permissions Violation/);
    expect((await readEventsStream(admin)).filter((event) => event.id === id || (event.data as { username?: string } | undefined)?.username === 'mallory')).toEqual([]);
  });

  it('signals and requests only from their owner: no forged invalidations, run logs or CI tokens', async () => {
    const gateway = await as('gateway');
    gateway.publish('gateway.auth.invalidate.v1', JSON.stringify({ all: true }));
    gateway.publish(`ci.runs.${randomUUID()}.log`, JSON.stringify({ lines: [] }));
    await gateway.flush();
    await publishRefused('gateway', 'gateway.auth.invalidate.v1');
    // The ci-runner asks identity for a run's token; the gateway may not.
    await expect(gateway.request('identity.ci_token.issue.v1', '{}', { timeout: 2000 })).rejects.toThrow(/Permissions Violation/);
    const ci = await as('ci-runner');
    await expect(ci.request('identity.user.create.v1', '{}', { timeout: 2000 })).rejects.toThrow(/Permissions Violation/);
    // identity's durable consumer may read only what it is for, not every event.
    const identity = await as('identity');
    const jsm = await jetstreamManager(identity);
    await expect(jsm.consumers.add('EVENTS', { durable_name: 'identity-ci-run-ended', filter_subject: 'events.>' })).rejects.toThrow(/Permissions Violation/);
    await expect(jsm.streams.delete('EVENTS')).rejects.toThrow(/Permissions Violation/);
    await expect(jsm.streams.purge('EVENTS')).rejects.toThrow(/Permissions Violation/);
    // And what each may do still works (the product works, too).
    expect(typeof (await login(stack))).toBe('string');
  });

  it('each backend service runs as its own PostgreSQL role; assets\' cannot read identity\'s tables or create elsewhere', async () => {
    const urls = stack.infra.credentials.databaseUrls;
    const sessions = await query(stack.infra.databaseUrl, `SELECT DISTINCT application_name AS app, usename AS role FROM pg_stat_activity WHERE datname = current_database() AND application_name IN ('identity', 'assets', 'ci-runner')`);
    expect(sessions.sort((a, b) => a.app.localeCompare(b.app))).toEqual(
      (['assets', 'ci-runner', 'identity'] as const).map((app) => ({ app, role: new URL(urls[app]).username })),
    );
    expect((await query(urls.identity, 'SELECT count(*)::int AS n FROM identity.users'))[0].n).toBeGreaterThan(0);
    const denied = { code: '42501' }; // insufficient_privilege
    for (const table of ['identity.users', 'identity.signing_keys', 'identity.token_hashes', 'identity.events']) {
      await expect(query(urls.assets, `SELECT * FROM ${table}`)).rejects.toMatchObject(denied);
      await expect(query(urls['ci-runner'], `SELECT * FROM ${table}`)).rejects.toMatchObject(denied);
    }
    await expect(query(urls.identity, 'SELECT * FROM ci.runs')).rejects.toMatchObject(denied);
    await expect(query(urls.assets, 'CREATE TABLE identity.intruder (n int)')).rejects.toMatchObject(denied);
    await expect(query(urls.assets, 'CREATE TABLE public.intruder (n int)')).rejects.toMatchObject(denied);
    await expect(query(urls.assets, 'CREATE SCHEMA intruder')).rejects.toMatchObject(denied);
  });

  it('logs no NATS or database password', async () => {
    const logs = stack.logs();
    const secrets = [...Object.values(stack.infra.credentials.nats).map((c) => c.pass), ...Object.values(stack.infra.credentials.databaseUrls).map((url) => decodeURIComponent(new URL(url).password))];
    expect(secrets).toHaveLength(7);
    for (const secret of secrets) expect(logs.includes(secret)).toBe(false);
  });
});
