import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import pino from 'pino';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { z } from 'zod';
import { ChainVerifier, defineEvent, SYSTEM_ACTOR, type EventEnvelope } from '#contracts';
import { Database, type Tx } from '../db/database';
import { runMigrations } from '../db/migrations';
import { DeadlineExceededError, withDeadline } from '../messaging/deadline';
import { connectNats } from '../messaging/nats-connection';
import { ensureEventsStream } from '../messaging/jetstream';
import { readEventsStream } from '../testing/stream-reader';
import { testInfra, type TestInfra } from '../testing/test-infra';
import { waitFor } from '../testing/wait-for';
import { createEventStoreTables } from './event-store.ddl';
import { eventChainMigration } from './event-chain';
import { EventStore } from './event-store';
import { OutboxRelay, type EventPublisher } from './outbox-relay';
import { VersionConflictError, type Projection, type StoredEvent } from './event-store.types';

const Incremented = defineEvent('test.counter.incremented', 1, z.strictObject({ by: z.number().int() }));
const meta = { actor: SYSTEM_ACTOR, requestId: 'req-1', ip: null };
const SCHEMA = 'estest';

class CreateTables implements MigrationInterface {
  name = 'CreateTables1700000000000';
  async up(queryRunner: QueryRunner): Promise<void> {
    await createEventStoreTables(queryRunner);
    await queryRunner.query('CREATE TABLE counters (id text PRIMARY KEY, total integer NOT NULL, version integer NOT NULL)');
  }
  async down(): Promise<void> {}
}

const counters: Projection = {
  name: 'counters',
  reset: async (tx) => void (await tx.query('TRUNCATE counters')),
  apply: async (tx, event: StoredEvent) => {
    const { by } = event.data as { by: number };
    await tx.query(
      `INSERT INTO counters (id, total, version) VALUES ($1, $2, $3)
       ON CONFLICT (id) DO UPDATE SET total = counters.total + $2, version = $3`,
      [event.streamId, by, event.version],
    );
  },
};

async function currentVersion(tx: Tx, id: string): Promise<number> {
  const { rows } = await tx.query<{ version: number }>('SELECT version FROM counters WHERE id = $1', [id]);
  return rows[0]?.version ?? 0;
}

describe('event store and outbox relay (real PostgreSQL and nats-server)', () => {
  let infra: TestInfra;
  let db: Database;
  let store: EventStore;
  let nc: NatsConnection;
  const relays: OutboxRelay[] = [];
  const logger = pino({ level: 'silent' });

  const newRelay = (database = db) => {
    const relay = new OutboxRelay(database, nc, { pollMs: 50, notifyChannel: store.notifyChannel, service: SCHEMA }, logger);
    relays.push(relay);
    return relay;
  };
  const increment = (id: string, by = 1) =>
    store.execute(async (tx) => store.append(tx, id, await currentVersion(tx, id), [{ contract: Incremented, data: { by }, subject: { kind: 'counter', id } }], meta));
  const unpublished = async () => (await db.query<{ n: string }>('SELECT count(*) AS n FROM events WHERE published_at IS NULL')).rows[0].n === '0';

  beforeAll(async () => {
    infra = await testInfra();
    await runMigrations(infra.databaseUrl, SCHEMA, [CreateTables, eventChainMigration(SCHEMA)]);
    db = new Database({ url: infra.databaseUrl, schema: SCHEMA, poolSize: 10, applicationName: 'test' });
    store = new EventStore(db, [counters]);
    nc = await connectNats({ url: infra.nats.url, name: 'event-store-test', auth: infra.nats.admin });
    await ensureEventsStream(nc);
  });

  afterAll(async () => {
    for (const relay of relays) await relay.stop();
    await nc?.close();
    await db?.close();
    await infra?.stop();
  });

  it('detects a version conflict when two writers append at the same expected version', async () => {
    const append = () =>
      db.transaction((tx) => store.append(tx, 'conflict', 0, [{ contract: Incremented, data: { by: 1 }, subject: { kind: 'counter', id: 'c' } }], meta));
    const results = await Promise.allSettled([append(), append()]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(rejected.reason).toBeInstanceOf(VersionConflictError);
  });

  it('retries a conflicting command so concurrent increments all land', async () => {
    await Promise.all(Array.from({ length: 20 }, () => increment('busy')));
    const { rows } = await db.query('SELECT total, version FROM counters WHERE id = $1', ['busy']);
    expect(rows[0]).toEqual({ total: 20, version: 20 });
  });

  it('a command that would commit after its caller stopped waiting rolls back (deadline passed)', async () => {
    const id = 'late-counter';
    const late = withDeadline(Date.now() + 50, () =>
      store.execute(async (tx) => {
        await store.append(tx, id, 0, [{ contract: Incremented, data: { by: 1 }, subject: { kind: 'counter', id } }], meta);
        await new Promise((resolve) => setTimeout(resolve, 80)); // the caller's timeout passes meanwhile
      }),
    );
    await expect(late).rejects.toBeInstanceOf(DeadlineExceededError);
    expect(await store.readStream(db, id)).toEqual([]);
    // In time, the same command commits.
    await withDeadline(Date.now() + 5000, () => store.execute((tx) => store.append(tx, id, 0, [{ contract: Incremented, data: { by: 1 }, subject: { kind: 'counter', id } }], meta)));
    expect(await store.readStream(db, id)).toHaveLength(1);
  });

  it('rejects event data that does not match its contract', async () => {
    await expect(
      db.transaction((tx) => store.append(tx, 'bad', 0, [{ contract: Incremented, data: { by: 'x' } as never, subject: { kind: 'counter', id: 'b' } }], meta)),
    ).rejects.toThrow();
  });

  it('publishes every event exactly once across a nats-server restart', async () => {
    const relay = newRelay();
    await relay.start();
    await Promise.all(Array.from({ length: 30 }, (_, i) => increment(`outage-${i % 3}`)));
    await infra.nats.stop();
    await Promise.all(Array.from({ length: 30 }, (_, i) => increment(`outage-${i % 3}`)));
    await infra.nats.restart();
    await waitFor(unpublished, { timeoutMs: 30000, message: 'relay did not publish everything after the restart' });
    const { rows } = await db.query<{ id: string }>('SELECT id FROM events ORDER BY position');
    const envelopes = await readEventsStream(nc);
    const ids = envelopes.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.sort()).toEqual(rows.map((r) => r.id).sort());
    await relay.stop();
  });

  it('a publish failing in the middle of a batch: the part before it is marked, the rest follows in order', async () => {
    const jetStream = jetstream(nc);
    let calls = 0;
    const flaky: EventPublisher = {
      publish: (subject, payload, options) => {
        calls++;
        return calls === 3 ? Promise.reject(new Error('injected publish failure')) : jetStream.publish(subject, payload, options);
      },
    };
    const relay = new OutboxRelay(db, nc, { pollMs: 60_000, notifyChannel: store.notifyChannel, service: SCHEMA }, logger, flaky);
    relays.push(relay);
    await relay.flush(); // nothing from earlier tests left over
    const appended: StoredEvent[] = [];
    for (let i = 0; i < 5; i++) appended.push(...(await increment(`ordered-${i}`)));
    calls = 0;
    await expect(relay.publishBatch()).rejects.toThrow('publish failed after 2 event(s)');
    const marked = await db.query<{ id: string }>('SELECT id FROM events WHERE published_at IS NOT NULL AND id = ANY($1::uuid[])', [appended.map((e) => e.id)]);
    expect(marked.rows.map((r) => r.id).sort()).toEqual(appended.slice(0, 2).map((e) => e.id).sort());
    await relay.flush();
    const onStream = (await readEventsStream(nc)).map((e) => e.id).filter((id) => appended.some((e) => e.id === id));
    expect(onStream).toEqual(appended.map((e) => e.id)); // in order, each once
  });

  it('a backlog larger than a batch drains in one wake-up: a full batch is followed at once, not at the next poll', async () => {
    for (const running of relays) await running.stop();
    const relay = new OutboxRelay(db, nc, { pollMs: 60_000, batchSize: 3, notifyChannel: store.notifyChannel, service: SCHEMA }, logger);
    await relay.flush(); // nothing from earlier tests left over
    relay.stats.published = 0;
    for (let i = 0; i < 10; i++) await increment(`backlog-${i}`);
    await relay.start(); // one wake-up; NOTIFYs sent before it listened are gone, the poll is a minute away
    try {
      await waitFor(unpublished, { timeoutMs: 10_000, message: 'a backlog of 10 in batches of 3 was not drained by one wake-up' });
      expect(relay.stats.published).toBe(10);
    } finally {
      await relay.stop(); // the tests below count on the relays they start alone
    }
  });

  it('two relays at once publish each event once', async () => {
    const second = new Database({ ...db.options, applicationName: 'relay-2' });
    const [a, b] = [newRelay(), newRelay(second)];
    await Promise.all([a.start(), b.start()]);
    await Promise.all(Array.from({ length: 100 }, (_, i) => increment(`pair-${i % 10}`)));
    await waitFor(unpublished, { message: 'events left unpublished' });
    expect(a.stats.duplicates + b.stats.duplicates).toBe(0);
    const envelopes = await readEventsStream(nc);
    const { rows } = await db.query<{ n: string }>('SELECT count(*) AS n FROM events');
    expect(envelopes).toHaveLength(Number(rows[0].n));
    expect(new Set(envelopes.map((e) => e.id)).size).toBe(envelopes.length);
    await Promise.all([a.stop(), b.stop()]);
    await second.close();
  });

  it('a relay that hangs mid-pass holds the other replica up only for its idle timeout, not for as long as it hangs', async () => {
    await newRelay().flush(); // nothing from earlier tests left over
    const frozenDb = new Database({ ...db.options, applicationName: 'relay-frozen' });
    let publishCalled = false;
    let thaw: (() => void) | null = null;
    // A process stopped (SIGSTOP) in the middle of a pass: its publish never comes back.
    const frozen: EventPublisher = {
      publish: () => {
        publishCalled = true;
        return new Promise((_, reject) => (thaw = () => reject(new Error('thawed'))));
      },
    };
    const stuck = new OutboxRelay(frozenDb, nc, { pollMs: 60_000, notifyChannel: store.notifyChannel, service: SCHEMA, publishTimeoutMs: 300 }, logger, frozen);
    await stuck.start();
    await increment('frozen-pass');
    await waitFor(async () => publishCalled, { message: 'the frozen relay never started a pass' });
    const started = Date.now();
    const healthy = newRelay();
    await healthy.start();
    try {
      await waitFor(unpublished, { timeoutMs: 10_000, message: 'the healthy relay was held up by the frozen one' });
      // idle_in_transaction_session_timeout = 300 + 1000 ms ended the frozen session
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      thaw!();
      await stuck.stop();
      await healthy.stop();
      await frozenDb.close();
    }
  });

  it('publishes an event whose transaction commits after a later position', async () => {
    const relay = newRelay();
    const client = await db.pool.connect();
    try {
      await client.query('BEGIN');
      const [early] = await store.append(client, 'late', 0, [{ contract: Incremented, data: { by: 7 }, subject: { kind: 'counter', id: 'late' } }], meta);
      const [later] = await increment('after-late');
      expect(later.position).toBeGreaterThan(early.position);
      await relay.flush();
      let published = (await readEventsStream(nc)).map((e) => e.id);
      expect(published).not.toContain(later.id); // held back while the older transaction is open
      await client.query('COMMIT');
      await relay.flush();
      published = (await readEventsStream(nc)).map((e) => e.id);
      expect(published.indexOf(early.id)).toBeGreaterThanOrEqual(0);
      expect(published.indexOf(later.id)).toBeGreaterThan(published.indexOf(early.id));
    } finally {
      client.release();
    }
  });

  it('carries actor, subject and request id in the published envelope', async () => {
    const relay = newRelay();
    const [event] = await increment('envelope', 3);
    await relay.flush();
    const envelope = (await readEventsStream(nc)).find((e) => e.id === event.id);
    expect(envelope).toMatchObject({
      type: 'test.counter.incremented', schemaVersion: 1, stream: 'envelope', version: 1,
      actor: SYSTEM_ACTOR, subject: { kind: 'counter', id: 'envelope' }, requestId: 'req-1', data: { by: 3 },
    });
  });

  it('every published event is a link of one hash chain, whatever happened above (restarts, two relays, a failed publish)', async () => {
    await newRelay().flush();
    const envelopes = await readEventsStream(nc);
    const { rows } = await db.query<{ n: string }>('SELECT count(*) AS n FROM events');
    expect(envelopes).toHaveLength(Number(rows[0].n));
    const verifier = new ChainVerifier(SCHEMA);
    expect(envelopes.map((e) => verifier.check(e)).filter(Boolean)).toEqual([]);
    expect(verifier.position?.seq).toBe(envelopes.length);
    // The stored links are the published ones (a re-publish sends the same bytes).
    const stored = await db.query<{ id: string; chain_seq: string; hash: string }>('SELECT id, chain_seq, hash FROM events');
    for (const row of stored.rows) expect(envelopes[Number(row.chain_seq) - 1]).toMatchObject({ id: row.id, hash: row.hash });
  });

  it('a verifier names the first event that was altered, dropped or reordered', async () => {
    const envelopes = (await readEventsStream(nc)).slice(0, 6);
    const firstProblem = (list: EventEnvelope[]) => {
      const verifier = new ChainVerifier(SCHEMA);
      return list.map((e) => verifier.check(e)).find(Boolean);
    };
    expect(firstProblem(envelopes)).toBeUndefined();
    const altered = envelopes.map((e, i) => (i === 3 ? { ...e, data: { by: 1000 } } : e));
    expect(firstProblem(altered)).toEqual({ kind: 'altered', detail: expect.stringContaining('seq 4') });
    const rehashed = altered.map((e, i) => (i === 3 ? { ...e, hash: 'f'.repeat(64) } : e)); // altered, and a hash made up
    expect(firstProblem(rehashed)?.kind).toBe('altered');
    expect(firstProblem(envelopes.filter((_, i) => i !== 2))).toEqual({ kind: 'gap', detail: expect.stringContaining('expected seq 3, got 4') });
    expect(firstProblem([envelopes[0], envelopes[2], envelopes[1]])?.kind).toBe('gap');
    const renumbered = [envelopes[0], { ...envelopes[2], seq: 2 }];
    expect(firstProblem(renumbered)?.kind).toBe('broken_link');
    // A range that does not start at 1 trusts its first prevHash and checks from there.
    expect(firstProblem(envelopes.slice(2))).toBeUndefined();
  });

  it('replay rebuilds projections equal to the live ones', async () => {
    const snapshot = async () => (await db.query('SELECT id, total, version FROM counters ORDER BY id')).rows;
    const live = await snapshot();
    expect(live.length).toBeGreaterThan(5);
    await db.query('UPDATE counters SET total = -1'); // corrupt the read model
    const count = await store.replay();
    expect(count).toBeGreaterThan(0);
    expect(await snapshot()).toEqual(live);
  });
});
