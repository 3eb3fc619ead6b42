import { jetstream, type JetStreamPublishOptions, type PubAck } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { PgListener } from '../db/pg-listener';
import type { Logger } from 'pino';
import type { Database, Tx } from '../db/database';
import type { ChainLink } from '#contracts';
import { chainedEnvelope, chainHead, linkOf, storePublishedLinks, type ChainHead } from './event-chain';
import type { EventRow } from './event-store';

export interface OutboxRelayOptions {
  /** Fallback poll interval; NOTIFY wakes the relay at once in the normal case. */
  pollMs: number;
  batchSize?: number;
  publishTimeoutMs?: number;
  notifyChannel: string;
  /** Whose audit chain the events join (identity, ci-runner, assets). */
  service: string;
}

const MAX_BACKOFF_MS = 5000;
/** How much longer than one publish's timeout the relay's transaction may sit idle. */
const IDLE_MARGIN_MS = 1000;

/** Where the relay publishes: JetStream (a test wraps it to make one publish fail). */
export interface EventPublisher {
  publish(subject: string, payload: string, options: Partial<JetStreamPublishOptions>): Promise<PubAck>;
}

/** A pass published part of a batch (and recorded that part) before a publish failed. */
class PublishFailed extends Error {
  override readonly name = 'PublishFailed';
  constructor(readonly published: number, options: { cause: unknown }) {
    super(`publish failed after ${published} event(s) of the batch`, options);
  }
}

/**
 * Publishes committed events to JetStream in order, `Nats-Msg-Id` = event id, one at a time (each
 * ack awaited before the next publish), and marks them published. A failed publish ends the pass:
 * what was acked before it is marked, it and everything after it is retried later — so the stream
 * never holds an event ahead of one published before it. Only events below the oldest running transaction are taken, so a
 * transaction that commits late with a lower position is published, never skipped. A
 * transaction-scoped advisory lock keeps two relays from publishing the same batch; JetStream's
 * dedupe is the backstop.
 */
export class OutboxRelay {
  private readonly publisher: EventPublisher;
  private listener: PgListener | null = null;
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
    publisher?: EventPublisher,
  ) {
    this.publisher = publisher ?? jetstream(nc);
  }

  async start(): Promise<void> {
    await this.listen();
    this.pollTimer = setInterval(() => this.wake(), this.options.pollMs);
    this.wake();
  }

  /** Drains what is committed (see drain); concurrent wake-ups fold into one more pass. */
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
    await this.listener?.stop();
  }

  /**
   * Passes until one takes less than a full batch. Not one more to find nothing: an event committed
   * meanwhile NOTIFYs, which folds into the next pass (wakeAgain), and the poll covers the rest.
   */
  private async drain(): Promise<void> {
    try {
      while (!this.stopped && (await this.publishBatch()) === this.batchSize());
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
    const pass = await this.db.transaction(async (tx) => {
      // A relay whose process hangs (SIGSTOP, a stuck event loop) would hold the lock, and so stop
      // every replica's relay, for as long as it hangs: between statements it only ever waits for
      // one publish ack, so PostgreSQL may end its session once it has been idle for longer. (One
      // statement for both: a pass is a handful of round trips, and this is one fewer.)
      const locked = await tx.query<{ locked: boolean }>(
        `SELECT pg_try_advisory_xact_lock(hashtext($1)) AS locked, set_config('idle_in_transaction_session_timeout', $2, true)`,
        [`gantry-relay:${this.db.options.schema}`, String(this.publishTimeoutMs() + IDLE_MARGIN_MS)],
      );
      if (!locked.rows[0].locked) return { published: 0, failure: null }; // another relay is publishing right now
      const rows = await this.nextBatch(tx);
      const head = rows.length > 0 ? await chainHead(tx, this.options.service) : null;
      const { published, links, failure } = await this.publishInOrder(rows, head!);
      await storePublishedLinks(tx, published, links);
      return { published: published.length, failure };
    });
    // Thrown after the commit: the events acked before the failure stay marked as published.
    if (pass.failure !== null) throw new PublishFailed(pass.published, { cause: pass.failure });
    return pass.published;
  }

  /**
   * Publishes `rows` one after another, each as the next link of the chain after `head`, until one
   * fails; returns the positions acked and their links. (A failed event gets the same link and so
   * the same bytes next pass: JetStream's dedupe by id still holds if it did arrive.)
   */
  private async publishInOrder(rows: EventRow[], head: ChainHead): Promise<{ published: string[]; links: ChainLink[]; failure: unknown }> {
    const timeout = this.publishTimeoutMs();
    const published: string[] = [];
    const links: ChainLink[] = [];
    for (const row of rows) {
      const envelope = chainedEnvelope(row, this.options.service, head);
      try {
        const ack = await this.publisher.publish(`events.${envelope.type}`, JSON.stringify(envelope), { msgID: envelope.id, timeout });
        this.stats.published++;
        if (ack.duplicate) this.stats.duplicates++;
      } catch (failure) {
        return { published, links, failure };
      }
      published.push(row.position);
      links.push((head = linkOf(envelope)));
    }
    return { published, links, failure: null };
  }

  private batchSize(): number {
    return this.options.batchSize ?? 500;
  }

  private publishTimeoutMs(): number {
    return this.options.publishTimeoutMs ?? 2000;
  }

  private async nextBatch(tx: Tx): Promise<EventRow[]> {
    const { rows } = await tx.query<EventRow>(
      `SELECT position, id, stream_id, version, type, schema_version, data, meta
         FROM events
        WHERE published_at IS NULL AND tx_id < pg_snapshot_xmin(pg_current_snapshot())
        ORDER BY tx_id, position
        LIMIT $1
        FOR UPDATE`,
      [this.batchSize()],
    );
    return rows;
  }

  /** NOTIFY wakes the relay at once; a lost LISTEN connection is replaced (polling covers the gap). */
  private async listen(): Promise<void> {
    this.listener = new PgListener({
      url: this.db.options.url,
      channel: this.options.notifyChannel,
      onNotify: () => this.wake(),
      onError: (error) => this.logger.warn({ err: errorSummary(error) }, 'outbox relay: LISTEN connection lost; reconnecting (polling meanwhile)'),
    });
    await this.listener.start();
  }
}

function errorSummary(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
