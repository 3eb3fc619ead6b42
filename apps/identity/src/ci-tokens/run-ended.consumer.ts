import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { z } from 'zod';
import { CiEvents, type EventEnvelope } from '#contracts';
import { DurableConsumer, EventStore, LOGGER, markConsumed, NATS_CONNECTION } from '#platform';
import { GatewayInvalidator } from '../auth/gateway-invalidator';
import { CiTokensService } from './ci-tokens.service';

/** Durable name: JetStream remembers what identity acked across restarts. Never rename. */
export const RUN_ENDED_CONSUMER = 'identity-ci-run-ended';
/**
 * How long a start waits for the run ends it missed. Past it identity starts anyway (logged as an
 * error): refusing every login because one event cannot be applied would be worse, and the
 * tokens' 25 h expiry still bounds them.
 */
const CATCH_UP_TIMEOUT_MS = 20_000;

const RunIdSchema = z.uuid();

/**
 * Revokes a CI run's tokens when the ci-runner says the run ended (`events.ci.run.ended`), once
 * per event (consumed_events in the same transaction), and tells every gateway to drop them.
 */
@Injectable()
export class RunEndedConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly consumer: DurableConsumer;

  constructor(
    @Inject(NATS_CONNECTION) nc: NatsConnection,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly store: EventStore,
    private readonly tokens: CiTokensService,
    private readonly invalidator: GatewayInvalidator,
  ) {
    this.consumer = new DurableConsumer(nc, { durable: RUN_ENDED_CONSUMER, filterSubject: CiEvents.runEnded.subject }, logger);
  }

  /**
   * Nest runs bootstrap hooks inside app.listen() before the NATS transport connects and
   * subscribes (NestMicroservice.listen → registerModules → callBootstrapHook, then
   * ServerNats.listen → bindEvents), so identity resolves no credential until the run ends it
   * missed while it was down have revoked their tokens.
   */
  async onApplicationBootstrap(): Promise<void> {
    await this.consumer.start((event) => this.handle(event));
    const state = await this.consumer.waitUntilCaughtUp(CATCH_UP_TIMEOUT_MS);
    if (!state.caughtUp) {
      this.logger.error({ pending: state.pending, ackPending: state.ackPending, timeoutMs: CATCH_UP_TIMEOUT_MS }, 'CI run ends not caught up in time: starting anyway');
    }
  }

  /** Before the infrastructure's shutdown hooks drain NATS and close the pool under it. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.consumer.stop();
  }

  async handle(envelope: EventEnvelope): Promise<void> {
    const data = CiEvents.runEnded.data.safeParse(envelope.data);
    if (envelope.type !== CiEvents.runEnded.type || !data.success || !RunIdSchema.safeParse(data.data.runId).success) {
      // Redelivering cannot fix it; no token was ever issued for a run id that is not a UUID.
      this.logger.error({ eventId: envelope.id, type: envelope.type }, 'ignoring a malformed ci.run.ended event');
      return;
    }
    const { runId } = data.data;
    // The revocation is caused by the run's end: its actor and request id go on the revoked events.
    const meta = { actor: envelope.actor, requestId: envelope.requestId, ip: null };
    const revoked = await this.store.execute(async (tx) => {
      if (!(await markConsumed(tx, RUN_ENDED_CONSUMER, envelope.id))) return null;
      return this.tokens.endRunIn(tx, runId, envelope.occurredAt, meta);
    });
    // A redelivery (applied before, then no ack: e.g. a crash between commit and invalidation)
    // still tells the gateways, which is harmless when they heard it the first time.
    const dropped = revoked ?? (await this.tokens.revokedByRunEnd(runId));
    if (dropped.length > 0) await this.invalidator.invalidate({ credentialIds: dropped });
    this.logger.info({ runId, eventId: envelope.id, revoked: revoked?.length ?? 0, redelivered: revoked === null }, 'CI run ended: its tokens are revoked');
  }
}
