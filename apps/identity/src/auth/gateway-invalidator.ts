import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { GatewaySignals, IdentityEvents, INVALIDATION_ACK_TIMEOUT_MS, InvalidationAckSchema, SYSTEM_ACTOR, type Invalidation } from '#contracts';
import { EventStore, LOGGER, NATS_CONNECTION, natsInbox } from '#platform';
import { IDENTITY_CONFIG, type IdentityConfig } from '../config';

/** A gateway counts as live while its heartbeats arrive; three missed beats and it is gone. */
const MISSED_BEATS = 3;

/**
 * Tells every live gateway to drop cached principals (and repository grants), and waits until
 * each has acknowledged, so a revoke call returns only once no gateway will accept the credential
 * again. Right after a start it first waits one presence window, so it knows every live gateway
 * before it waits for them. A gateway that does not answer in time is logged and recorded as an
 * event (`identity.gateway.invalidation_unacknowledged`); that gateway serves no cached credential
 * once it notices it was cut off (a stalled event loop, no identity heartbeat, a NATS reconnect).
 */
@Injectable()
export class GatewayInvalidator implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly lastSeen = new Map<string, { at: number; intervalMs: number }>();
  private presence: Subscription | null = null;
  private listeningSince = Number.POSITIVE_INFINITY;

  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(IDENTITY_CONFIG) private readonly config: IdentityConfig,
    private readonly store: EventStore,
  ) {}

  onApplicationBootstrap(): void {
    this.presence = this.nc.subscribe(GatewaySignals.presence.subject, {
      callback: (_, message) => {
        const beat = GatewaySignals.presence.schema.safeParse(safeJson(message.string()));
        if (beat.success) this.lastSeen.set(beat.data.gatewayId, { at: Date.now(), intervalMs: beat.data.intervalMs });
      },
    });
    this.listeningSince = Date.now();
  }

  onApplicationShutdown(): void {
    this.presence?.unsubscribe();
  }

  liveGateways(): string[] {
    const now = Date.now();
    return [...this.lastSeen].filter(([, seen]) => now - seen.at <= seen.intervalMs * MISSED_BEATS).map(([id]) => id);
  }

  /** Resolves once every live gateway acknowledged; the ones that did not are returned (and recorded). */
  async invalidate(invalidation: Partial<Invalidation>): Promise<string[]> {
    await this.awaitPresenceWindow();
    const waiting = new Set(this.liveGateways());
    const parsed = GatewaySignals.invalidate.schema.parse(invalidation);
    const payload = JSON.stringify(parsed);
    if (waiting.size === 0) {
      this.nc.publish(GatewaySignals.invalidate.subject, payload); // none live: still tell any that listen
      return [];
    }
    const inbox = this.nc.subscribe(natsInbox(this.nc)); // under this user's own inbox prefix
    const deadline = setTimeout(() => inbox.unsubscribe(), INVALIDATION_ACK_TIMEOUT_MS); // ends the loop below
    this.nc.publish(GatewaySignals.invalidate.subject, payload, { reply: inbox.getSubject() });
    for await (const message of inbox) {
      const ack = InvalidationAckSchema.safeParse(safeJson(message.string()));
      if (ack.success) waiting.delete(ack.data.gatewayId);
      if (waiting.size === 0) break;
    }
    clearTimeout(deadline);
    inbox.unsubscribe();
    if (waiting.size > 0) await this.recordMissing([...waiting], parsed);
    return [...waiting];
  }

  /** Gateways announce themselves every interval: until one has passed, some may be unknown. */
  private async awaitPresenceWindow(): Promise<void> {
    const window = this.config.GANTRY_PRESENCE_INTERVAL_MS + 250;
    const remaining = this.listeningSince + window - Date.now();
    if (remaining > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(remaining, window)));
  }

  private async recordMissing(gatewayIds: string[], invalidation: Invalidation): Promise<void> {
    this.logger.warn({ missing: gatewayIds }, 'gateways did not acknowledge an invalidation in time');
    const data = { gatewayIds, credentials: invalidation.credentialIds.length, users: invalidation.userIds.length, repos: invalidation.repoIds.length };
    await this.store
      .execute((tx) => this.store.append(tx, `invalidation-${randomUUID()}`, 0, [{ contract: IdentityEvents.invalidationUnacknowledged, data, subject: { kind: 'gateway', id: gatewayIds[0] } }], { actor: SYSTEM_ACTOR, requestId: null, ip: null }))
      .catch((error: unknown) => this.logger.error({ err: String(error) }, 'could not record an unacknowledged invalidation'));
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
