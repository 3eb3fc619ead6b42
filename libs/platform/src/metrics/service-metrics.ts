import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Counter, Registry } from 'prom-client';
import type { OutboxRelay } from '../event-store/outbox-relay';
import type { ServiceConfig } from '../service/service-config';
import { closeMetrics, serveMetrics } from './metrics-server';

/** The prefix of a service's series: `gantry_ci_runner_` for ci-runner. */
export const metricsPrefix = (service: string) => `gantry_${service.replace(/[^a-zA-Z0-9]/g, '_')}_`;

/** A counter whose value is read at scrape time (from tallies kept elsewhere, off any hot path). */
function tally(registry: Registry, name: string, help: string, read: () => number): void {
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

/**
 * A backend service's Prometheus metrics: the process defaults (heap, event-loop lag, GC,
 * handles) and what its outbox relay published. Off unless GANTRY_METRICS_PORT is set: on one host
 * (`npm run dev`) the gateway holds the default port; in a container each service may take 9464.
 * Built by ServiceInfraModule's factory (it needs the service's name).
 */
export class ServiceMetrics implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly registry = new Registry();
  private server: Server | null = null;

  constructor(
    service: string,
    relay: OutboxRelay,
    private readonly config: ServiceConfig,
    private readonly logger: Logger,
  ) {
    const prefix = metricsPrefix(service);
    collectDefaultMetrics({ register: this.registry, prefix });
    tally(this.registry, `${prefix}outbox_published_total`, 'Events the outbox relay published to JetStream', () => relay.stats.published);
    tally(this.registry, `${prefix}outbox_duplicates_total`, 'Publishes JetStream acked as duplicates (sent twice, stored once)', () => relay.stats.duplicates);
  }

  async onApplicationBootstrap(): Promise<void> {
    this.server = await serveMetrics(this.registry, this.config, this.logger, null);
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    this.server = null;
    await closeMetrics(server);
  }
}
