import { v7 as uuidv7 } from 'uuid';
import type { EventEnvelope } from '#contracts';
import { isUniqueViolation, type Database, type Tx } from '../db/database';
import { assertBeforeDeadline } from '../messaging/deadline';
import { VersionConflictError, type EventMeta, type NewEvent, type Projection, type StoredEvent } from './event-store.types';

interface EventRow {
  position: string;
  id: string;
  stream_id: string;
  version: number;
  type: string;
  schema_version: number;
  data: unknown;
  meta: EventMeta & { subject: StoredEvent['subject']; occurredAt: string };
}

/** Under heavy contention on one stream each round has one winner: retry with jittered backoff. */
const MAX_CONFLICT_RETRIES = 50;

/**
 * Append-only event store in a service's own schema, with inline projections: `append` writes the
 * events and applies every projection in the caller's transaction, then NOTIFYs the relay (the
 * notification is delivered at commit).
 */
export class EventStore {
  readonly notifyChannel: string;

  constructor(
    private readonly db: Database,
    private readonly projections: readonly Projection[],
  ) {
    this.notifyChannel = `${db.options.schema}_events`;
  }

  /**
   * Runs a command in a transaction and retries it from scratch when another writer got to the
   * stream first; the command re-reads state on every attempt. Under a request whose caller has
   * stopped waiting (messaging/deadline.ts) it rolls back instead of committing: the caller was
   * told 503, so the change must not happen behind its back.
   */
  async execute<T>(command: (tx: Tx) => Promise<T>): Promise<T> {
    const commitInTime = async (tx: Tx) => {
      const result = await command(tx);
      assertBeforeDeadline();
      return result;
    };
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.db.transaction(commitInTime);
      } catch (error) {
        if (!(error instanceof VersionConflictError) || attempt >= MAX_CONFLICT_RETRIES) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 2 * attempt)));
      }
    }
  }

  /** Appends events at `expectedVersion + 1 …`; throws VersionConflictError if the stream moved. */
  async append(tx: Tx, streamId: string, expectedVersion: number, events: NewEvent[], meta: EventMeta): Promise<StoredEvent[]> {
    const stored: StoredEvent[] = [];
    const occurredAt = new Date().toISOString();
    for (const [index, event] of events.entries()) {
      const data = event.contract.data.parse(event.data);
      const row = { id: uuidv7(), version: expectedVersion + index + 1 };
      const fullMeta = { ...meta, subject: event.subject, occurredAt };
      const result = await tx
        .query<{ position: string }>(
          `INSERT INTO events (id, stream_id, version, type, schema_version, data, meta)
           VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING position`,
          [row.id, streamId, row.version, event.contract.type, event.contract.schemaVersion, data, fullMeta],
        )
        .catch((error: unknown) => {
          if (isUniqueViolation(error, 'events_stream_version')) throw new VersionConflictError(streamId, expectedVersion, { cause: error });
          throw error;
        });
      stored.push({
        position: BigInt(result.rows[0].position), id: row.id, streamId, version: row.version,
        type: event.contract.type, schemaVersion: event.contract.schemaVersion, data,
        subject: event.subject, meta, occurredAt,
      });
    }
    for (const event of stored) for (const projection of this.projections) await projection.apply(tx, event);
    await tx.query(`SELECT pg_notify($1, '')`, [this.notifyChannel]);
    return stored;
  }

  /** The stream's events in version order (to fold an aggregate's state). */
  async readStream(tx: Tx, streamId: string): Promise<StoredEvent[]> {
    const { rows } = await tx.query<EventRow>(
      `SELECT position, id, stream_id, version, type, schema_version, data, meta
         FROM events WHERE stream_id = $1 ORDER BY version`,
      [streamId],
    );
    return rows.map(rowToEvent);
  }

  /** Every event after `afterPosition`, in position order, `limit` at a time. */
  async readAll(tx: Tx, afterPosition: bigint, limit: number): Promise<StoredEvent[]> {
    const { rows } = await tx.query<EventRow>(
      `SELECT position, id, stream_id, version, type, schema_version, data, meta
         FROM events WHERE position > $1 ORDER BY position LIMIT $2`,
      [afterPosition.toString(), limit],
    );
    return rows.map(rowToEvent);
  }

  /** Rebuilds every projection from the events alone, in one transaction. */
  async replay(batchSize = 1000): Promise<number> {
    return this.db.transaction(async (tx) => {
      for (const projection of this.projections) await projection.reset(tx);
      let after = 0n;
      let count = 0;
      for (;;) {
        const batch = await this.readAll(tx, after, batchSize);
        if (batch.length === 0) return count;
        for (const event of batch) for (const projection of this.projections) await projection.apply(tx, event);
        after = batch[batch.length - 1].position;
        count += batch.length;
      }
    });
  }

}

export function rowToEvent(row: EventRow): StoredEvent {
  const { subject, occurredAt, ...meta } = row.meta;
  return {
    position: BigInt(row.position), id: row.id, streamId: row.stream_id, version: row.version,
    type: row.type, schemaVersion: row.schema_version, data: row.data, subject,
    meta: { actor: meta.actor, requestId: meta.requestId, ip: meta.ip }, occurredAt,
  };
}

export type { EventRow };

/** The envelope published on JetStream and seen by audit subscribers. */
export function toEnvelope(event: StoredEvent): EventEnvelope {
  // Chain fields (service, seq, prevHash, hash) are added by the relay: event-chain.ts.
  return {
    id: event.id,
    type: event.type,
    schemaVersion: event.schemaVersion,
    stream: event.streamId,
    version: event.version,
    occurredAt: event.occurredAt,
    actor: event.meta.actor,
    subject: event.subject,
    requestId: event.meta.requestId,
    ip: event.meta.ip,
    data: event.data,
  };
}
