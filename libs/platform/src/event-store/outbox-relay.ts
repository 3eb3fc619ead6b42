import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import pg from 'pg';
import type { Logger } from 'pino';
import type { Database, Tx } from '../db/database';
import { rowToEvent, toEnvelope, type EventRow } from './event-store';

export interface OutboxRelayOptions {
  /** Fallback poll interval; NOTIFY wakes the relay at once in the normal case. */
  pollMs: number;
  batchSize?: number;
  publishTimeoutMs?: number;
  notifyChannel: string;
}

const MAX_BACKOFF_MS = 5000;

/**
 * Publishes committed events to JetStream in order, `Nats-Msg-Id` = event id, and marks them
 * published after the acks. Only events below the oldest running transaction are taken, so a
 * transaction that commits late with a lower position is published, never skipped. A
 * transaction-scoped advisory lock keeps two relays from publishing the same batch; JetStream's
 * dedupe is the backstop.
 */
export class OutboxRelay {
  private readonly js: JetStreamClient;
  private listener: pg.Client | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private draining: Promise<void> | null = null;
  private wakeAgain = false;
  private stopped = false;
  private failures = 0;
  /** Ends the backoff wait after a failed pass early (stop() uses it). */
  private endBackoff: (() => void) | null = null;
  /** Counters for tests and metrics: a duplicate ack means an event was sent twice. */
  readonly stats = { published: 0, duplicates: 0 };

  constructor(
    private readonly db: Database,
    nc: NatsConnection,
    private readonly options: OutboxRelayOptions,
    private readonly logger: Logger,
  ) {
    this.js = jetstream(nc);
  }

  async start(): Promise<void> {
    await this.listen();
    this.pollTimer = setInterval(() => this.wake(), this.options.pollMs);
    this.wake();
  }

  /** Drains until nothing is left; concurrent wake-ups fold into one more pass. */
  wake(): void {
    if (this.stopped) return;
    if (this.draining) {
      this.wakeAgain = true;
      return;
    }
    this.draining = this.drain().finally(() => {
      this.draining = null;
      if (this.wakeAgain && !this.stopped) {
        this.wakeAgain = false;
        this.wake();
      }
    });
  }

  /**
   * Resolves once everything committed so far is published; rejects when a pass fails (database
   * or NATS down). Tests use it, and shutdown after stop().
   */
  async flush(): Promise<void> {
    while (this.draining) await this.draining;
    let published: number;
    do published = await this.publishBatch(); while (published > 0);
  }

  /** No more passes: waits for the one running, cutting its backoff short after a failure. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.endBackoff?.();
    await this.draining;
    await this.listener?.end().catch(() => undefined);
  }

  private async drain(): Promise<void> {
    try {
      while (!this.stopped && (await this.publishBatch()) > 0);
      this.failures = 0;
    } catch (error) {
      this.failures++;
      const delay = Math.min(MAX_BACKOFF_MS, 100 * 2 ** this.failures);
      this.logger.warn({ err: errorSummary(error), retryInMs: delay }, 'outbox relay: pass failed (database or NATS unreachable), will retry');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        this.endBackoff = () => (clearTimeout(timer), resolve());
      });
      this.endBackoff = null;
      this.wakeAgain = true;
    }
  }

  /** Publishes one batch in a transaction; returns how many events it published. */
  async publishBatch(): Promise<number> {
    return this.db.transaction(async (tx) => {
      const locked = await tx.query<{ locked: boolean }>(
        'SELECT pg_try_advisory_xact_lock(hashtext($1)) AS locked',
        [`gantry-relay:${this.db.options.schema}`],
      );
      if (!locked.rows[0].locked) return 0; // another relay is publishing right now
      const rows = await this.nextBatch(tx);
      if (rows.length === 0) return 0;
      const timeout = this.options.publishTimeoutMs ?? 2000;
      // One connection keeps order: the server stores them in the order they were sent.
      const acks = await Promise.all(
        rows.map((row) => {
          const event = rowToEvent(row);
          return this.js.publish(`events.${event.type}`, JSON.stringify(toEnvelope(event)), { msgID: event.id, timeout });
        }),
      );
      this.stats.published += acks.length;
      this.stats.duplicates += acks.filter((ack) => ack.duplicate).length;
      await tx.query('UPDATE events SET published_at = now() WHERE position = ANY($1::bigint[])', [rows.map((row) => row.position)]);
      return rows.length;
    });
  }

  private async nextBatch(tx: Tx): Promise<EventRow[]> {
    const { rows } = await tx.query<EventRow>(
      `SELECT position, id, stream_id, version, type, schema_version, data, meta
         FROM events
        WHERE published_at IS NULL AND tx_id < pg_snapshot_xmin(pg_current_snapshot())
        ORDER BY tx_id, position
        LIMIT $1
        FOR UPDATE`,
      [this.options.batchSize ?? 500],
    );
    return rows;
  }

  private async listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.db.options.url });
    client.on('notification', () => this.wake());
    // A lost listener only costs latency (polling continues); reconnect it in the background.
    client.on('error', () => {
      this.listener = null;
      if (!this.stopped) setTimeout(() => void this.listen().catch(() => undefined), 1000);
    });
    await client.connect();
    await client.query(`LISTEN "${this.options.notifyChannel}"`);
    this.listener = client;
  }
}

function errorSummary(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
