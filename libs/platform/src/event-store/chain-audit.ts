import { DeliverPolicy, jetstream, type JetStreamPublishOptions, type PubAck } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { ChainVerifier, EVENTS_STREAM, EventEnvelopeSchema, type ChainProblem, type EventEnvelope } from '#contracts';
import type { Tx } from '../db/database';
import { storedEnvelope } from './event-chain';
import type { EventRow } from './event-store';

/** Which part of a service's chain: seq `from` … `to` (inclusive; open-ended when absent). */
export interface ChainRange {
  from?: number;
  to?: number;
}

export interface ChainReport {
  service: string;
  source: 'postgres' | 'jetstream';
  /** Events of the range checked before the first problem (all of them when there is none). */
  checked: number;
  first: number | null;
  last: number | null;
  problem: ChainProblem | null;
}

const PAGE = 1000;
type ChainedRow = EventRow & { chain_seq: string | null; prev_hash: string | null; hash: string | null };
const COLUMNS = 'position, id, stream_id, version, type, schema_version, data, meta, chain_seq, prev_hash, hash';

/** Pages through a service's stored events in chain order, starting after seq `after`. */
async function* storedChain(tx: Tx, service: string, range: ChainRange): AsyncGenerator<EventEnvelope> {
  let after = (range.from ?? 1) - 1;
  const to = range.to ?? Number.MAX_SAFE_INTEGER;
  for (;;) {
    const { rows } = await tx.query<ChainedRow>(
      `SELECT ${COLUMNS} FROM events WHERE chain_seq > $1 AND chain_seq <= $2 ORDER BY chain_seq LIMIT ${PAGE}`,
      [after, to],
    );
    for (const row of rows) yield storedEnvelope(row, service);
    if (rows.length < PAGE) return;
    after = Number(rows[rows.length - 1].chain_seq);
  }
}

/**
 * Every envelope of `service` on EVENTS in stream order, read with an ordered consumer up to the
 * stream's end at the time of the call (the whole stream is read: it is not indexed by service).
 */
async function* streamedChain(nc: NatsConnection, service: string, range: ChainRange): AsyncGenerator<EventEnvelope> {
  const js = jetstream(nc);
  const consumer = await js.consumers.get(EVENTS_STREAM.name, { deliver_policy: DeliverPolicy.All });
  const end = (await consumer.info(true)).num_pending;
  if (end === 0) return;
  const messages = await consumer.consume();
  let read = 0;
  try {
    for await (const message of messages) {
      read++;
      const parsed = EventEnvelopeSchema.safeParse(message.json());
      if (parsed.success) {
        const envelope = parsed.data as EventEnvelope;
        const seq = envelope.seq ?? 0;
        if (envelope.service === service && seq >= (range.from ?? 1) && seq <= (range.to ?? Number.MAX_SAFE_INTEGER)) yield envelope;
      }
      if (read >= end) return;
    }
  } finally {
    await messages.close();
  }
}

async function verify(envelopes: AsyncIterable<EventEnvelope>, service: string, source: ChainReport['source']): Promise<ChainReport> {
  const verifier = new ChainVerifier(service);
  const report: ChainReport = { service, source, checked: 0, first: null, last: null, problem: null };
  for await (const envelope of envelopes) {
    const problem = verifier.check(envelope);
    if (problem) return { ...report, problem };
    report.first ??= envelope.seq!;
    report.last = envelope.seq!;
    report.checked++;
  }
  return report;
}

/** Verifies a range of `service`'s chain as stored in its schema (the `events` table). */
export function verifyStoredChain(tx: Tx, service: string, range: ChainRange = {}): Promise<ChainReport> {
  return verify(storedChain(tx, service, range), service, 'postgres');
}

/** Verifies a range of `service`'s chain as published on EVENTS. */
export function verifyPublishedChain(nc: NatsConnection, service: string, range: ChainRange = {}): Promise<ChainReport> {
  return verify(streamedChain(nc, service, range), service, 'jetstream');
}

export interface RepublishReport {
  /** Envelopes sent. */
  sent: number;
  /** Of those, how many JetStream dropped as duplicates (still inside its duplicate window). */
  duplicates: number;
}

/**
 * Re-publishes a range of `service`'s stored events to EVENTS, byte-for-byte as first published
 * (same chain fields, `Nats-Msg-Id` = event id): after a JetStream loss, or to fill a gap a
 * verifier found. JetStream drops those it still holds within its duplicate window; beyond it,
 * subscribers dedupe by event id.
 */
export async function republishChain(
  tx: Tx,
  publisher: { publish(subject: string, payload: string, options: Partial<JetStreamPublishOptions>): Promise<PubAck> },
  service: string,
  range: ChainRange,
): Promise<RepublishReport> {
  const report: RepublishReport = { sent: 0, duplicates: 0 };
  for await (const envelope of storedChain(tx, service, range)) {
    const ack = await publisher.publish(`events.${envelope.type}`, JSON.stringify(envelope), { msgID: envelope.id, timeout: 5000 });
    report.sent++;
    if (ack.duplicate) report.duplicates++;
  }
  return report;
}
