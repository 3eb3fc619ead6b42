import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type ConsumerMessages, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { EVENTS_STREAM, EventEnvelopeSchema, type EventEnvelope } from '#contracts';

export interface DurableConsumerOptions {
  /** Durable name: the server remembers what this consumer acked across restarts. Never rename. */
  durable: string;
  /** e.g. `events.ci.run.ended` or `events.identity.>`. */
  filterSubject: string;
  /** Redelivery delay after a failed handler. */
  retryDelayMs?: number;
}

/** Where a consumer stands: `caughtUp` when nothing is left to deliver or to ack. */
export interface CatchUpState {
  caughtUp: boolean;
  /** Messages in the stream not yet delivered to this consumer. */
  pending: number;
  /** Messages delivered but not acked yet (their handlers are still running). */
  ackPending: number;
}

const CATCH_UP_POLL_MS = 50;

/**
 * A durable pull consumer on EVENTS with explicit ack: a message is acked only after the handler
 * resolved (i.e. after the handler's own commit), so a crash means redelivery, never a loss.
 * Handlers must be idempotent (see `consumed_events`).
 */
export class DurableConsumer {
  private messages: ConsumerMessages | null = null;
  private loop: Promise<void> | null = null;
  private jsm: JetStreamManager | null = null;

  constructor(
    private readonly nc: NatsConnection,
    private readonly options: DurableConsumerOptions,
    private readonly logger: Logger,
  ) {}

  async start(handler: (event: EventEnvelope) => Promise<void>): Promise<void> {
    const jsm = (this.jsm = await jetstreamManager(this.nc));
    await jsm.consumers.add(EVENTS_STREAM.name, {
      durable_name: this.options.durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: this.options.filterSubject,
    });
    const consumer = await jetstream(this.nc).consumers.get(EVENTS_STREAM.name, this.options.durable);
    this.messages = await consumer.consume({ max_messages: 100 });
    this.loop = this.run(this.messages, handler);
  }

  /**
   * Waits (after start) until every event published before now was handled and acked (acks follow
   * the handler's commit), or until `timeoutMs`: a service calls it at start so that it serves no
   * request before it applied the events it missed while down. Resolves with the last state seen;
   * the caller decides what a timeout means (usually: log it and start anyway).
   */
  async waitUntilCaughtUp(timeoutMs: number): Promise<CatchUpState> {
    if (!this.jsm) throw new Error(`consumer ${this.options.durable} is not started`);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const info = await this.jsm.consumers.info(EVENTS_STREAM.name, this.options.durable);
      const state = { caughtUp: info.num_pending === 0 && info.num_ack_pending === 0, pending: info.num_pending, ackPending: info.num_ack_pending };
      if (state.caughtUp || Date.now() > deadline) return state;
      await new Promise((resolve) => setTimeout(resolve, CATCH_UP_POLL_MS));
    }
  }

  async stop(): Promise<void> {
    await this.messages?.close();
    await this.loop;
  }

  private async run(messages: ConsumerMessages, handler: (event: EventEnvelope) => Promise<void>): Promise<void> {
    for await (const message of messages) {
      const parsed = EventEnvelopeSchema.safeParse(safeJson(message.string()));
      if (!parsed.success) {
        // A payload that can never be valid would be redelivered forever: log and drop it.
        this.logger.error({ subject: message.subject, seq: message.seq }, 'dropping an event that does not match the envelope schema');
        message.term();
        continue;
      }
      try {
        await handler(parsed.data as EventEnvelope);
        message.ack();
      } catch (error) {
        this.logger.warn({ err: error, eventId: parsed.data.id, durable: this.options.durable }, 'event handler failed; will be redelivered');
        message.nak(this.options.retryDelayMs ?? 1000);
      }
    }
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
