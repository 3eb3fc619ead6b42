import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { GatewaySignals } from '#contracts';
import { LOGGER, NATS_CONNECTION } from '#platform';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config';
import { AuthCache } from './auth-cache';
import { RepoAccess } from './repo-access';

/**
 * Keeps this gateway's auth cache honest: applies identity's invalidation broadcasts and acks them
 * (identity waits for every live gateway before a revoke returns), announces this gateway with
 * heartbeats so identity knows whom to wait for, and flushes everything after a NATS reconnect
 * (messages may have been missed while away).
 */
@Injectable()
export class InvalidationListener implements OnModuleInit, OnApplicationShutdown {
  readonly gatewayId: string;
  private subscription: Subscription | null = null;
  private heartbeat: NodeJS.Timeout | null = null;

  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly cache: AuthCache,
    private readonly repoAccess: RepoAccess,
  ) {
    this.gatewayId = config.GANTRY_GATEWAY_ID ?? `gw-${randomUUID()}`;
  }

  async onModuleInit(): Promise<void> {
    this.subscription = this.nc.subscribe(GatewaySignals.invalidate.subject, {
      callback: (_, message) => {
        const parsed = GatewaySignals.invalidate.schema.safeParse(readJson(message));
        // Anything unreadable (not JSON, not the schema) flushes everything: dropping too much is safe, too little is not.
        const invalidation = parsed.success ? parsed.data : { credentialIds: [], userIds: [], repoIds: [], all: true };
        this.cache.invalidate(invalidation);
        this.repoAccess.invalidate(invalidation);
        if (message.reply) message.respond(JSON.stringify({ gatewayId: this.gatewayId }));
      },
    });
    await this.nc.flush(); // subscribed before announcing ourselves
    this.announce();
    this.heartbeat = setInterval(() => this.announce(), this.config.GANTRY_PRESENCE_INTERVAL_MS);
    this.heartbeat.unref();
    void this.watchReconnects();
  }

  onApplicationShutdown(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.subscription?.unsubscribe();
  }

  private announce(): void {
    if (this.nc.isClosed()) return;
    this.nc.publish(GatewaySignals.presence.subject, JSON.stringify({ gatewayId: this.gatewayId, intervalMs: this.config.GANTRY_PRESENCE_INTERVAL_MS }));
  }

  private async watchReconnects(): Promise<void> {
    for await (const status of this.nc.status()) {
      if (status.type === 'reconnect') {
        this.cache.clear();
        this.repoAccess.invalidate({ credentialIds: [], userIds: [], repoIds: [], all: true });
        this.announce();
        this.logger.info('NATS connection re-established: auth cache flushed');
      }
    }
  }
}

/** The message's JSON, or undefined when it is not JSON (which must not throw inside a NATS callback). */
function readJson(message: Msg): unknown {
  try {
    return message.json();
  } catch {
    return undefined;
  }
}
