import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import { closeMetrics, DEFAULT_METRICS_PORT, LOGGER, serveMetrics } from '#platform';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config';
import { HttpMetrics } from './metrics';

/** The gateway's `GET /metrics` listener: on by default (127.0.0.1:9464), see serveMetrics. */
@Injectable()
export class MetricsListener implements OnApplicationBootstrap, OnApplicationShutdown {
  private server: Server | null = null;

  constructor(
    private readonly metrics: HttpMetrics,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.server = await serveMetrics(this.metrics.registry, this.config, this.logger, DEFAULT_METRICS_PORT);
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    this.server = null;
    await closeMetrics(server);
  }
}
