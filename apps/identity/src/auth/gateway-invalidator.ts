import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { createInbox, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { GatewaySignals, InvalidationAckSchema, type Invalidation } from '#contracts';
import { LOGGER, NATS_CONNECTION } from '#platform';

/** A gateway counts as live while its heartbeats arrive; three missed beats and it is gone. */
const MISSED_BEATS = 3;
const ACK_TIMEOUT_MS = 1000;

/**
 * Tells every live gateway to drop cached principals, and waits until each has acknowledged, so a
 * revoke call returns only once no gateway will accept the credential again. A gateway that does
 * not answer in time is logged; its cache TTL bounds the exposure, and it flushes its whole cache
 * when its NATS connection comes back.
 */
@Injectable()
export class GatewayInvalidator implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly lastSeen = new Map<string, { at: number; intervalMs: number }>();
  private presence: Subscription | null = null;

  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.presence = this.nc.subscribe(GatewaySignals.presence.subject, {
      callback: (_, message) => {
        const beat = GatewaySignals.presence.schema.safeParse(message.json());
        if (beat.success) this.lastSeen.set(beat.data.gatewayId, { at: Date.now(), intervalMs: beat.data.intervalMs });
      },
    });
  }

  onApplicationShutdown(): void {
    this.presence?.unsubscribe();
  }

  liveGateways(): string[] {
    const now = Date.now();
    return [...this.lastSeen].filter(([, seen]) => now - seen.at <= seen.intervalMs * MISSED_BEATS).map(([id]) => id);
  }

  async invalidate(invalidation: Partial<Invalidation>): Promise<void> {
    const waiting = new Set(this.liveGateways());
    const payload = JSON.stringify(GatewaySignals.invalidate.schema.parse(invalidation));
    if (waiting.size === 0) {
      this.nc.publish(GatewaySignals.invalidate.subject, payload); // gateways we have not heard from yet
      return;
    }
    const inbox = this.nc.subscribe(createInbox());
    const deadline = setTimeout(() => inbox.unsubscribe(), ACK_TIMEOUT_MS); // ends the loop below
    this.nc.publish(GatewaySignals.invalidate.subject, payload, { reply: inbox.getSubject() });
    for await (const message of inbox) {
      const ack = InvalidationAckSchema.safeParse(message.json());
      if (ack.success) waiting.delete(ack.data.gatewayId);
      if (waiting.size === 0) break;
    }
    clearTimeout(deadline);
    inbox.unsubscribe();
    if (waiting.size > 0) this.logger.warn({ missing: [...waiting] }, 'gateways did not acknowledge an invalidation in time');
  }
}
