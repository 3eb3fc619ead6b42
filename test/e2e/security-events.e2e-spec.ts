import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect } from '@nats-io/transport-node';
import { createHash } from 'node:crypto';
import { EventEnvelopeSchema, GatewayEvents, generateToken, parseToken, type DenialAggregate, type EventEnvelope } from '../../libs/contracts/src';
import { freePort } from '../../libs/platform/src/infra/free-port';
import { readEventsStream } from '../../libs/platform/src/testing/stream-reader';
import { waitFor } from '../../libs/platform/src/testing/wait-for';
import { Api } from '../support/api';
import { call, startGantry, type GantryStack } from '../support/gantry-stack';

type GatewayEvent = EventEnvelope<DenialAggregate>;

const INTERVAL_MS = 3000;
const MAX_KEYS = 20;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * The gateway's security events (README "Audit stream"): refusals counted per (reason, client,
 * method, route, credential kind) per interval, published straight to JetStream. Each test speaks
 * as its own client IPs (X-Forwarded-For from the trusted 127.0.0.1).
 */
describe('gateway security events on the EVENTS stream', () => {
  let stack: GantryStack;
  let api: Api;
  let admin: string;
  let metricsUrl: string;
  /** A window boundary seen on the stream: the gateway closes its windows every INTERVAL_MS from there. */
  let boundary: number | null = null;

  /** The whole stream, over a fresh admin connection (NATS is restarted by one test). */
  const stream = async (): Promise<EventEnvelope[]> => {
    const nc = await connect({ servers: stack.infra.nats.url, ...stack.infra.nats.admin });
    try {
      return await readEventsStream(nc);
    } finally {
      await nc.close();
    }
  };
  const gatewayEvents = async (filter: (event: GatewayEvent) => boolean = () => true): Promise<GatewayEvent[]> => {
    const events = (await stream()).filter((event) => event.type.startsWith('gateway.')) as GatewayEvent[];
    const last = events.at(-1);
    if (last) boundary = Date.parse(last.data.windowEnd);
    return events.filter(filter);
  };
  /** Waits until the events matching `filter` add up to `total` refusals. */
  const countedEvents = (filter: (event: GatewayEvent) => boolean, total: number) =>
    waitFor(async () => {
      const events = await gatewayEvents(filter);
      return events.reduce((sum, event) => sum + event.data.count, 0) >= total ? events : undefined;
    }, { timeoutMs: 30_000, intervalMs: 250, message: `security events adding up to ${total} not on the stream` });
  /** Just after the gateway opened a new window, so that a quick burst lands in one window. */
  const windowStart = async () => {
    if (boundary === null) {
      await call(`${stack.url}/api/v1/user`, { token: 'not-a-token', headers: { 'x-forwarded-for': '192.0.2.250' } });
      await countedEvents((event) => event.data.ip === '192.0.2.250', 1);
    }
    const now = Date.now();
    const next = boundary! + Math.ceil((now - boundary!) / INTERVAL_MS) * INTERVAL_MS;
    await sleep(next - now + 150);
  };
  const from = (ip: string, path: string, init: { token?: string; method?: string; body?: unknown } = {}) =>
    call(`${stack.url}${path}`, { ...init, headers: { 'x-forwarded-for': ip } });

  beforeAll(async () => {
    const metricsPort = await freePort();
    metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    stack = await startGantry({
      env: {
        GANTRY_METRICS_PORT: String(metricsPort),
        GANTRY_SECURITY_EVENT_INTERVAL_MS: String(INTERVAL_MS), GANTRY_SECURITY_EVENT_MAX_KEYS: String(MAX_KEYS),
        GANTRY_TRUST_PROXY: '127.0.0.1',
        GANTRY_RATE_LIMIT_PER_SECOND: '1', GANTRY_RATE_LIMIT_BURST: '10',
      },
    });
    api = new Api(stack);
    admin = await api.login(stack.admin.username, stack.admin.password);
  });
  afterAll(async () => stack?.stop());

  it('50 refused PAT requests from one client: one auth.denied with count 50, kind, display prefix and route template, never the token or its hash', async () => {
    const token = generateToken('pat'); // well-formed, valid checksum, never issued
    await windowStart();
    const answers = await Promise.all(Array.from({ length: 50 }, () => from('192.0.2.10', '/api/v1/user', { token })));
    expect(answers.map((a) => a.status)).toEqual(Array(50).fill(401));
    const onRepo = await Promise.all(Array.from({ length: 3 }, () => from('192.0.2.10', '/api/v1/repos/acme-corp/secret-plans', { token })));
    expect(onRepo.map((a) => a.status)).toEqual([401, 401, 401]);

    const events = await countedEvents((event) => event.data.ip === '192.0.2.10', 53);
    const [user, repo] = [events.filter((e) => e.data.route === '/api/v1/user'), events.filter((e) => e.data.route === '/api/v1/repos/:owner/:repo')];
    expect(user).toHaveLength(1);
    expect(user[0].type).toBe(GatewayEvents.authDenied.type);
    expect(user[0].data).toMatchObject({
      reason: answers[0].body.error.code, credentialKind: 'pat', credentialPrefix: parseToken(token)!.displayPrefix, mixedPrefixes: false,
      ip: '192.0.2.10', method: 'GET', route: '/api/v1/user', count: 50,
    });
    expect(answers.map((a) => a.headers.get('x-request-id'))).toContain(user[0].data.firstRequestId);
    expect(user[0].requestId).toBe(user[0].data.firstRequestId);
    expect(repo.reduce((sum, e) => sum + e.data.count, 0)).toBe(3);
    // A valid envelope and data, outside the services' hash chains.
    for (const event of [...user, ...repo]) {
      EventEnvelopeSchema.parse(event);
      GatewayEvents.authDenied.data.parse(event.data);
      expect(event.stream).toMatch(/^gateway:/);
      expect(event).toMatchObject({ actor: { kind: 'anonymous' }, subject: { kind: 'client', id: '192.0.2.10' }, ip: '192.0.2.10' });
      expect(['service', 'seq', 'prevHash', 'hash'].filter((field) => field in event)).toEqual([]);
    }
    const everything = JSON.stringify(await stream());
    expect(everything).not.toContain(token);
    expect(everything).not.toContain(sha256(token));
    expect(everything).not.toContain('secret-plans'); // the route template, never the raw URL
    const metrics = await (await fetch(metricsUrl)).text();
    expect(Number(/^gantry_gateway_denials_total\{reason="invalid_token"\} (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(53);
    expect(Number(/^gantry_security_events_total\{outcome="published"\} (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(2);
    expect(metrics).toMatch(/^gantry_security_events_queued 0$/m);
  });

  it('failed logins: auth.denied with reason invalid_credentials, and neither username nor password on the stream', async () => {
    await api.user(admin, 'loginvictim');
    for (let i = 0; i < 3; i++) {
      const answer = await from('192.0.2.11', '/api/v1/auth/login', { method: 'POST', body: { username: 'loginvictim', password: `Wrong-Guess-${i}-xyz` } });
      expect([answer.status, answer.body.error.code]).toEqual([401, 'invalid_credentials']);
    }
    const [event] = await countedEvents((e) => e.data.ip === '192.0.2.11', 3);
    expect(event.type).toBe('gateway.auth.denied');
    expect(event.data).toMatchObject({ reason: 'invalid_credentials', credentialKind: 'password', credentialPrefix: null, method: 'POST', route: '/api/v1/auth/login', count: 3 });
    const everything = JSON.stringify(await stream());
    expect(everything).not.toContain('Wrong-Guess-');
    expect(JSON.stringify(await gatewayEvents())).not.toContain('loginvictim');
  });

  it('a rate-limited client: gateway.request.rate_limited with the count of its 429s', async () => {
    const { token } = await api.pat(admin);
    const answers = await Promise.all(Array.from({ length: 30 }, () => from('192.0.2.12', '/api/v1/user', { token })));
    const limited = answers.filter((a) => a.status === 429);
    expect(limited.length).toBeGreaterThanOrEqual(15);
    expect(limited.every((a) => a.body.error.code === 'rate_limited')).toBe(true);
    const events = await countedEvents((e) => e.data.ip === '192.0.2.12', limited.length);
    expect(events.every((e) => e.type === GatewayEvents.rateLimited.type)).toBe(true);
    expect(events.reduce((sum, e) => sum + e.data.count, 0)).toBe(limited.length);
    expect(events[0].data).toMatchObject({ reason: 'rate_limited', credentialKind: 'pat', credentialPrefix: parseToken(token)!.displayPrefix, route: '/api/v1/user' });
    expect(JSON.stringify(await stream())).not.toContain(token);
  });

  it('NATS down during refusals: the gateway keeps the events and publishes them, once each, after NATS is back', async () => {
    const before = (await gatewayEvents()).length;
    const malformed = `gtp_${'x'.repeat(36)}`; // bad checksum: refused without asking identity
    await stack.infra.nats.stop();
    try {
      for (let round = 0; round < 2; round++) {
        const answers = await Promise.all(Array.from({ length: 10 }, () => from('192.0.2.13', '/api/v1/user', { token: malformed })));
        expect(answers.map((a) => a.status)).toEqual(Array(10).fill(401));
        await sleep(INTERVAL_MS + 500); // a window closes while JetStream is away
      }
    } finally {
      await stack.infra.nats.restart();
    }
    const events = await countedEvents((e) => e.data.ip === '192.0.2.13', 20);
    expect(events.reduce((sum, e) => sum + e.data.count, 0)).toBe(20);
    expect(events.every((e) => e.data.credentialKind === 'pat' && e.data.credentialPrefix === null && e.data.reason === 'invalid_token')).toBe(true);
    const all = await gatewayEvents();
    expect(new Set(all.map((e) => e.id)).size).toBe(all.length);
    expect(all.length).toBeGreaterThan(before);
    expect(stack.logs()).toContain('security events: JetStream did not take them; retrying');
  });

  it(`a flood from many IPs stays within ${MAX_KEYS} per-client keys a window; the rest is counted under ip "*"`, async () => {
    await windowStart();
    const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => from(`198.51.100.${i + 1}`, '/api/v1/user', { token: 'guess' })));
    expect(answers.every((a) => a.status === 401)).toBe(true);
    const flood = (e: GatewayEvent) => e.data.ip.startsWith('198.51.100.') || (e.data.ip === '*' && e.data.route === '/api/v1/user');
    const events = await countedEvents(flood, 100);
    expect(events.reduce((sum, e) => sum + e.data.count, 0)).toBe(100);
    const perClient = events.filter((e) => e.data.ip !== '*');
    const folded = events.filter((e) => e.data.ip === '*');
    expect(perClient).toHaveLength(MAX_KEYS);
    expect(folded).toHaveLength(1);
    expect(folded[0]).toMatchObject({ ip: null, data: { count: 100 - MAX_KEYS, credentialKind: 'unknown', reason: 'invalid_token' } });
    expect(new Set(events.map((e) => `${e.stream} ${e.version}`)).size).toBe(events.length);
    // Every window of the whole run stayed within the bound.
    const byWindow = new Map<string, number>();
    for (const e of await gatewayEvents((e) => e.data.ip !== '*')) byWindow.set(`${e.stream} ${e.data.windowStart}`, (byWindow.get(`${e.stream} ${e.data.windowStart}`) ?? 0) + 1);
    expect(Math.max(...byWindow.values())).toBeLessThanOrEqual(MAX_KEYS);
  });

  it('a graceful stop closes the open window and publishes it before the gateway lets go of NATS', async () => {
    await windowStart();
    const answers = await Promise.all(Array.from({ length: 5 }, () => from('192.0.2.14', '/api/v1/user', { token: 'guess' })));
    expect(answers.every((a) => a.status === 401)).toBe(true);
    await stack.processes.find((p) => p.name.startsWith('gateway'))!.stop();
    const [event] = await countedEvents((e) => e.data.ip === '192.0.2.14', 5);
    expect(event.data.count).toBe(5);
    expect(Date.parse(event.data.windowEnd) - Date.parse(event.data.windowStart)).toBeLessThan(INTERVAL_MS);
  });
});
