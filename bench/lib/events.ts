import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import { defineEvent, EVENTS_STREAM, SYSTEM_ACTOR } from '#contracts';
import { Database, EventStore, toEnvelope } from '#platform';
import type { BenchStack } from './bench-stack';
import { percentile } from './revocation';

/** A bench-only event appended to identity's own store, so identity's real relay publishes it. */
const Tick = defineEvent('identity.bench.tick', 1, z.strictObject({ n: z.number().int(), pad: z.string() }));
const PAD = 'x'.repeat(300); // about the size of a real event's data
const META = { actor: SYSTEM_ACTOR, requestId: null, ip: null };

interface LagResult {
  sent: number;
  received: number;
  p50: number;
  p99: number;
  max: number;
  /** Events actually committed per second (the target pace, unless the database could not keep up). */
  rate: number;
}

/**
 * Event commit → subscriber receipt: commits `rate` events a second for `seconds` into identity's
 * event store (one transaction each, as a command does), while a durable consumer in this process
 * — same clock — records when each arrives. The path measured is the deployed one: NOTIFY wakes
 * identity's relay, which chains and publishes each event and awaits its ack, then JetStream
 * delivers to the consumer.
 */
async function commitToReceipt(store: EventStore, nc: NatsConnection, rate: number, seconds: number): Promise<LagResult> {
  const durable = `bench-lag-${Date.now()}`;
  const jsm = await jetstreamManager(nc);
  await jsm.consumers.add(EVENTS_STREAM.name, { durable_name: durable, ack_policy: AckPolicy.None, deliver_policy: DeliverPolicy.New, filter_subject: `events.${Tick.type}` });
  const committedAt = new Map<number, number>();
  const receivedAt = new Map<number, number>();
  const messages = await (await jetstream(nc).consumers.get(EVENTS_STREAM.name, durable)).consume({ max_messages: 1000 });
  const receiving = (async () => {
    for await (const message of messages) receivedAt.set(message.json<{ data: { n: number } }>().data.n, performance.now());
  })();
  const total = rate * seconds;
  const started = performance.now();
  // Each event is committed at its due time by one of a few concurrent committers (one commit
  // takes a few ms: a single committer could not keep 500/s), as concurrent requests would.
  let next = 0;
  const committer = async () => {
    for (let n = next++; n < total; n = next++) {
      const wait = started + (n * 1000) / rate - performance.now();
      if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
      await store.execute((tx) => store.append(tx, `bench-${n}`, 0, [{ contract: Tick, data: { n, pad: PAD }, subject: { kind: 'bench', id: String(n) } }], META));
      committedAt.set(n, performance.now());
    }
  };
  await Promise.all(Array.from({ length: 4 }, committer));
  const elapsed = (performance.now() - started) / 1000;
  const deadline = Date.now() + 30_000;
  while (receivedAt.size < total && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  await messages.close();
  await receiving;
  await jsm.consumers.delete(EVENTS_STREAM.name, durable);
  // An event can arrive before its committer resumes after the commit: lag 0, not left out.
  const lags = [...receivedAt].map(([n, at]) => Math.max(0, at - committedAt.get(n)!)).sort((a, b) => a - b);
  return { sent: total, received: receivedAt.size, p50: percentile(lags, 50), p99: percentile(lags, 99), max: lags[lags.length - 1] ?? NaN, rate: total / elapsed };
}

/**
 * Relay throughput: `count` events committed in one go (while the relay cannot publish: they pile
 * up), then the time until the relay has published them all — vs publishing the same envelopes to
 * the same stream from here, one at a time with each ack awaited, as the relay does.
 */
async function relayVsRaw(db: Database, store: EventStore, nc: NatsConnection, count: number): Promise<{ relayPerSec: number; rawPerSec: number }> {
  const unpublished = async () => Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM events WHERE published_at IS NULL')).rows[0].n);
  // Block the relay: its batch takes FOR UPDATE row locks in a transaction holding the advisory lock;
  // holding that lock here makes every pass skip (it tries, and yields when another relay holds it).
  const blocker = await db.pool.connect();
  await blocker.query('BEGIN');
  await blocker.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`gantry-relay:${db.options.schema}`]);
  const payloads: { subject: string; body: string; id: string }[] = [];
  try {
    for (let i = 0; i < count; i += 500) {
      const stored = await store.execute(async (tx) => {
        const events = [];
        for (let n = i; n < Math.min(i + 500, count); n++) {
          events.push(...(await store.append(tx, `bulk-${Date.now()}-${n}`, 0, [{ contract: Tick, data: { n, pad: PAD }, subject: { kind: 'bench', id: String(n) } }], META)));
        }
        return events;
      });
      // What the relay will send: the envelope with its chain fields (placeholders of the same size).
      const chain = { service: 'identity', seq: 1, prevHash: '0'.repeat(64), hash: '0'.repeat(64) };
      for (const event of stored) payloads.push({ subject: `events.${event.type}`, body: JSON.stringify({ ...toEnvelope(event), ...chain }), id: event.id });
    }
  } finally {
    await blocker.query('COMMIT');
    blocker.release();
  }
  const relayStarted = performance.now();
  await store.execute(async (tx) => void (await tx.query(`SELECT pg_notify($1, '')`, [store.notifyChannel])));
  while ((await unpublished()) > 0) await new Promise((resolve) => setTimeout(resolve, 5));
  const relayPerSec = count / ((performance.now() - relayStarted) / 1000);

  // The same number of publishes of the same size, with fresh ids (the stream dedupes the others).
  const js = jetstream(nc);
  const rawStarted = performance.now();
  for (const payload of payloads) await js.publish(payload.subject, payload.body, { msgID: `raw-${payload.id}` });
  const rawPerSec = count / ((performance.now() - rawStarted) / 1000);
  return { relayPerSec, rawPerSec };
}

/** The events section of `npm run bench`. */
export async function benchEvents(stack: BenchStack): Promise<void> {
  const rate = Number(process.env.BENCH_EVENTS_RATE ?? 500);
  const seconds = Number(process.env.BENCH_EVENTS_SECONDS ?? 60);
  const bulk = Number(process.env.BENCH_EVENTS_BULK ?? 10000);
  const db = new Database({ url: stack.databaseUrl, schema: 'identity', poolSize: 4, applicationName: 'bench-events' });
  const store = new EventStore(db, []);
  const nc = await connect({ servers: stack.natsUrl, ...stack.natsAdmin });
  try {
    const lag = await commitToReceipt(store, nc, rate, seconds);
    console.log(`\n## events: commit → subscriber receipt at ${rate}/s for ${seconds} s (identity's relay, JetStream, a durable consumer)`);
    console.log(`committed ${lag.sent} at ${lag.rate.toFixed(0)}/s, received ${lag.received}; lag p50 ${lag.p50.toFixed(1)} ms, p99 ${lag.p99.toFixed(1)} ms, max ${lag.max.toFixed(1)} ms (goal p99 ≤ 50 ms)`);
    const throughput = await relayVsRaw(db, store, nc, bulk);
    console.log(`\n## events: relay throughput, ${bulk} events committed while the relay was held`);
    console.log(`relay ${throughput.relayPerSec.toFixed(0)} events/s; raw JetStream publish (one at a time, ack awaited) ${throughput.rawPerSec.toFixed(0)}/s; relay/raw ${(throughput.relayPerSec / throughput.rawPerSec).toFixed(2)}×`);
  } finally {
    await nc.close();
    await db.close();
  }
}
