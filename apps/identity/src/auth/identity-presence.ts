import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import { randomUUID } from 'node:crypto';
import { IdentitySignals } from '#contracts';
import { NATS_CONNECTION } from '#platform';
import { IDENTITY_CONFIG, type IdentityConfig } from '../config';

/**
 * Identity's heartbeat to the gateways: on the same connection as its invalidations, so a gateway
 * that hears a beat has heard every invalidation sent before it. A gateway hearing none for three
 * intervals serves no cached credential (it cannot know what it missed).
 */
@Injectable()
export class IdentityPresence implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly instanceId = `identity-${randomUUID()}`;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(IDENTITY_CONFIG) private readonly config: IdentityConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.beat();
    this.timer = setInterval(() => this.beat(), this.config.GANTRY_PRESENCE_INTERVAL_MS);
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private beat(): void {
    if (this.nc.isClosed()) return;
    this.nc.publish(IdentitySignals.presence.subject, JSON.stringify({ instanceId: this.instanceId, intervalMs: this.config.GANTRY_PRESENCE_INTERVAL_MS }));
  }
}
