import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { Registry } from 'prom-client';
import { EventEnvelopeSchema, GatewayEvents, generateToken, parseToken, type DenialAggregate, type EventEnvelope } from '#contracts';
import { aggregateEventId, DenialAggregator, MAX_OVERFLOW_KEYS, type Denial } from './denial-aggregator';
import { deniedCredential, SecurityEvents, type SecurityEventPublisher } from './security-events';

const denial = (over: Partial<Denial> = {}): Denial => ({
  reason: 'invalid_token', kind: 'pat', prefix: 'gtp_AbCd', ip: '203.0.113.7', method: 'GET', route: '/api/v1/user', requestId: 'r1', ...over,
});
const quiet = { warn: () => undefined, info: () => undefined };

/** A JetStream stand-in: stores by Nats-Msg-Id (dedupe), can be switched off. */
class FakeStream implements SecurityEventPublisher {
  readonly stored = new Map<string, EventEnvelope<DenialAggregate>>();
  up = true;
  attempts = 0;
  async publish(subject: string, payload: string, options: { msgID: string }) {
    this.attempts++;
    if (!this.up) throw new Error('timeout');
    const envelope = JSON.parse(payload) as EventEnvelope<DenialAggregate>;
    expect(subject).toBe(`events.${envelope.type}`);
    expect(options.msgID).toBe(envelope.id);
    const duplicate = this.stored.has(options.msgID);
    if (!duplicate) this.stored.set(options.msgID, envelope);
    return { duplicate };
  }
}

describe('DenialAggregator', () => {
  it('counts per (reason, ip, method, route, kind) within a window and starts empty after closing it', () => {
    const aggregator = new DenialAggregator(100, 1000);
    for (let i = 0; i < 50; i++) aggregator.record(denial({ requestId: `r${i}` }));
    aggregator.record(denial({ reason: 'token_revoked' }));
    aggregator.record(denial({ ip: '203.0.113.8' }));
    aggregator.record(denial({ route: '/api/v1/repos/:owner/:repo' }));
    aggregator.record(denial({ method: 'POST' }));
    aggregator.record(denial({ kind: 'runner', prefix: 'gtr_WxYz' }));
    const closed = aggregator.close(2000);
    expect([closed.windowStart, closed.windowEnd]).toEqual([1000, 2000]);
    expect(closed.counts).toHaveLength(6);
    const main = closed.counts.find((c) => c.count === 50)!;
    expect(main).toMatchObject({ reason: 'invalid_token', ip: '203.0.113.7', route: '/api/v1/user', kind: 'pat', prefix: 'gtp_AbCd', firstRequestId: 'r0', mixedPrefixes: false });
    expect(closed.counts.filter((c) => c !== main).every((c) => c.count === 1)).toBe(true);
    expect(aggregator.size).toBe(0);
    expect(aggregator.close(3000)).toMatchObject({ windowStart: 2000, windowEnd: 3000, counts: [] });
  });

  it('keeps the first prefix and says when others followed', () => {
    const aggregator = new DenialAggregator(10, 0);
    aggregator.record(denial({ prefix: 'gtp_AAAA' }));
    aggregator.record(denial({ prefix: 'gtp_BBBB' }));
    expect(aggregator.close(1).counts).toMatchObject([{ prefix: 'gtp_AAAA', mixedPrefixes: true, count: 2 }]);
  });

  it('holds at most maxKeys per-client keys; the rest fold into one ip "*" aggregate per (reason, method, route, kind)', () => {
    const aggregator = new DenialAggregator(10, 0);
    const where = Array.from({ length: 1000 }, (_, i) => aggregator.record(denial({ ip: `198.51.${i >> 8}.${i & 255}`, requestId: `r${i}` })));
    for (let i = 0; i < 100; i++) aggregator.record(denial({ ip: `192.0.2.${i}`, reason: 'rate_limited' }));
    expect(where.filter((w) => w === 'counted')).toHaveLength(10);
    expect(aggregator.size).toBe(12);
    const closed = aggregator.close(1);
    const stars = closed.counts.filter((c) => c.ip === '*');
    expect(stars.map((c) => [c.reason, c.count, c.firstRequestId])).toEqual([['invalid_token', 990, 'r10'], ['rate_limited', 100, 'r1']]);
    expect(closed.counts.filter((c) => c.ip !== '*')).toHaveLength(10);
    expect(closed.folded).toBe(1090);
    expect(closed.counts.reduce((sum, c) => sum + c.count, 0)).toBe(1100);
  });

  it('caps the overflow aggregates too (only a bug could reach it: their keys are server-chosen)', () => {
    const aggregator = new DenialAggregator(1, 0);
    aggregator.record(denial());
    for (let i = 0; i < MAX_OVERFLOW_KEYS + 5; i++) aggregator.record(denial({ ip: `10.0.${i >> 8}.${i & 255}`, route: `/r/${i}` }));
    const closed = aggregator.close(1);
    expect(closed.counts).toHaveLength(1 + MAX_OVERFLOW_KEYS);
    expect(closed.uncounted).toBe(5);
  });

  it('derives a UUIDv7 event id from process, window and key: the same aggregate, the same id', () => {
    const id = aggregateEventId('boot-1', 1_700_000_000_000, 'k');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(aggregateEventId('boot-1', 1_700_000_000_000, 'k')).toBe(id);
    expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(1_700_000_000_000);
    expect(new Set([aggregateEventId('boot-2', 1_700_000_000_000, 'k'), aggregateEventId('boot-1', 1_700_000_000_001, 'k'), aggregateEventId('boot-1', 1_700_000_000_000, 'k2'), id]).size).toBe(4);
  });
});

describe('deniedCredential', () => {
  const request = (headers: Record<string, string>, body?: unknown) => ({ headers, body, principal: undefined });

  it('gives the kind and, for a well-formed token only, the display prefix: never the token or its hash', () => {
    const token = generateToken('pat');
    expect(deniedCredential(request({ authorization: `Bearer ${token}` }), 'invalid_token')).toEqual({ kind: 'pat', prefix: parseToken(token)!.displayPrefix });
    expect(parseToken(token)!.displayPrefix).toHaveLength(8);
    const badChecksum = token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A');
    expect(deniedCredential(request({ authorization: `Bearer ${badChecksum}` }), 'invalid_token')).toEqual({ kind: 'pat', prefix: null });
    expect(deniedCredential(request({ 'x-gantry-key': generateToken('apiKey') }), 'token_revoked')).toMatchObject({ kind: 'api_key' });
    expect(deniedCredential(request({ authorization: 'Bearer aaa.bbb.ccc' }), 'invalid_token')).toEqual({ kind: 'session', prefix: null });
    expect(deniedCredential(request({ authorization: 'Basic dXNlcjpwYXNz' }), 'invalid_token')).toEqual({ kind: 'unknown', prefix: null });
    expect(deniedCredential(request({ authorization: 'Bearer hunter2' }), 'invalid_token')).toEqual({ kind: 'unknown', prefix: null });
    expect(deniedCredential(request({}), 'unauthenticated')).toEqual({ kind: 'none', prefix: null });
    expect(deniedCredential(request({}), 'invalid_credentials')).toEqual({ kind: 'password', prefix: null });
    expect(deniedCredential(request({}, { token: generateToken('install') }), 'invalid_install_token')).toMatchObject({ kind: 'install' });
  });
});

describe('SecurityEvents', () => {
  const options = { gatewayId: 'gw-test', intervalMs: 10_000, maxKeys: 100, queueMax: 1000, maxBackoffMs: 20 };

  it('publishes one valid event per key with its count, without the token or its hash', async () => {
    const stream = new FakeStream();
    const events = new SecurityEvents(stream, options, quiet, new Registry());
    const token = generateToken('pat');
    const prefix = parseToken(token)!.displayPrefix;
    for (let i = 0; i < 50; i++) events.record(denial({ prefix, requestId: `req-${i}` }));
    for (let i = 0; i < 7; i++) events.record(denial({ reason: 'rate_limited', kind: 'none', prefix: null, route: '/api/v1/auth/login', method: 'POST' }));
    events.closeWindow();
    await events.publishQueued();
    const stored = [...stream.stored.values()];
    expect(stored.map((e) => [e.type, e.data.count]).sort()).toEqual([['gateway.auth.denied', 50], ['gateway.request.rate_limited', 7]]);
    for (const envelope of stored) {
      expect(EventEnvelopeSchema.safeParse(envelope).error).toBeUndefined();
      const contract = envelope.type === GatewayEvents.authDenied.type ? GatewayEvents.authDenied : GatewayEvents.rateLimited;
      expect(contract.data.parse(envelope.data)).toEqual(envelope.data);
      expect(envelope).toMatchObject({ stream: 'gateway:gw-test', actor: { kind: 'anonymous' }, subject: { kind: 'client', id: '203.0.113.7' }, ip: '203.0.113.7' });
      // No audit chain: chains are per service database.
      expect(['service', 'seq', 'prevHash', 'hash'].filter((field) => field in envelope)).toEqual([]);
    }
    expect(stored.map((e) => e.version).sort()).toEqual([1, 2]);
    const denied = stored.find((e) => e.type === 'gateway.auth.denied')!;
    expect(denied.data).toMatchObject({ reason: 'invalid_token', credentialKind: 'pat', credentialPrefix: prefix, route: '/api/v1/user', method: 'GET', firstRequestId: 'req-0' });
    expect(denied.requestId).toBe('req-0');
    const text = JSON.stringify(stored);
    expect(text).not.toContain(token);
    expect(text).not.toContain(createHash('sha256').update(token).digest('hex'));
    expect(events.stats).toMatchObject({ published: 2, dropped: 0 });
  });

  it('keeps events while JetStream is away, retries with backoff and publishes each once', async () => {
    const stream = new FakeStream();
    stream.up = false;
    const events = new SecurityEvents(stream, options, quiet);
    for (let i = 0; i < 3; i++) events.record(denial({ ip: `192.0.2.${i}` }));
    events.closeWindow();
    await events.publishQueued();
    expect([stream.stored.size, events.queued]).toEqual([0, 3]);
    events.record(denial());
    events.closeWindow(); // while backing off: queued, not published at once
    expect(events.queued).toBe(4);
    stream.up = true;
    for (let i = 0; i < 100 && events.queued > 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect([stream.stored.size, events.queued]).toEqual([4, 0]);
    expect(stream.attempts).toBeGreaterThan(4);
  });

  it('a publish whose ack was lost is stored once: the retry carries the same Nats-Msg-Id', async () => {
    const stream = new FakeStream();
    let lose = true;
    const lossy: SecurityEventPublisher = {
      publish: async (subject, payload, opts) => {
        const ack = await stream.publish(subject, payload, opts);
        if (lose) {
          lose = false;
          throw new Error('timeout'); // stored, but the ack never arrived
        }
        return ack;
      },
    };
    const events = new SecurityEvents(lossy, options, quiet);
    events.record(denial());
    events.closeWindow();
    await events.publishQueued();
    expect(events.queued).toBe(1);
    for (let i = 0; i < 100 && events.queued > 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect([stream.stored.size, stream.attempts, events.stats.duplicates]).toEqual([1, 2, 1]);
  });

  it('bounds the queue: beyond queueMax new events are dropped and counted', async () => {
    const stream = new FakeStream();
    stream.up = false;
    const registry = new Registry();
    const events = new SecurityEvents(stream, { ...options, queueMax: 5 }, quiet, registry);
    for (let i = 0; i < 8; i++) events.record(denial({ ip: `192.0.2.${i}` }));
    events.closeWindow();
    await events.publishQueued();
    expect([events.queued, events.stats.dropped]).toEqual([5, 3]);
    const metrics = await registry.metrics();
    expect(metrics).toContain('gantry_security_events_total{outcome="dropped"} 3');
    expect(metrics).toContain('gantry_security_events_queued 5');
    expect(metrics).toContain('gantry_gateway_denials_total{reason="invalid_token"} 8');
  });

  it('on shutdown closes the open window and publishes it; what JetStream does not take in time is dropped and counted', async () => {
    const stream = new FakeStream();
    const events = new SecurityEvents(stream, options, quiet);
    events.onModuleInit();
    events.record(denial());
    await events.onApplicationShutdown();
    expect(stream.stored.size).toBe(1);

    const down = new FakeStream();
    down.up = false;
    const stuck = new SecurityEvents(down, { ...options, shutdownBudgetMs: 50 }, quiet);
    stuck.record(denial());
    await stuck.onApplicationShutdown();
    expect([stuck.queued, stuck.stats.dropped]).toEqual([0, 1]);
  });
});
