import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { LOGGER } from '#platform';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config';
import { HttpMetrics } from './metrics';

/** Prometheus' registered default port for exporters of this kind (OpenTelemetry's too). */
export const DEFAULT_METRICS_PORT = 9464;

/**
 * Serves `GET /metrics` on a listener of its own (GANTRY_METRICS_HOST:GANTRY_METRICS_PORT, by
 * default 127.0.0.1:9464), never on the public port: route names, status counts and process
 * figures are for the operator's scraper, not for the internet. A port given explicitly that
 * cannot be bound stops the gateway; the default port being taken (several gateways on one host)
 * only costs that gateway its metrics, with a warning.
 */
@Injectable()
export class MetricsListener implements OnApplicationBootstrap, OnApplicationShutdown {
  private server: Server | null = null;

  constructor(
    private readonly metrics: HttpMetrics,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const configured = this.config.GANTRY_METRICS_PORT;
    if (configured === 'off') return;
    const host = this.config.GANTRY_METRICS_HOST;
    const server = createServer((request, response) => void this.answer(request, response));
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(configured ?? DEFAULT_METRICS_PORT, host, () => resolve());
      });
    } catch (error) {
      if (configured !== undefined) throw new Error(`metrics listener: cannot listen on ${host}:${configured}: ${(error as Error).message}`, { cause: error });
      this.logger.warn({ err: error }, `metrics listener off: ${host}:${DEFAULT_METRICS_PORT} is taken (set GANTRY_METRICS_PORT)`);
      return;
    }
    this.server = server;
    const { port } = server.address() as AddressInfo;
    this.logger.info({ url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/metrics` }, 'metrics listening');
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if ((request.method !== 'GET' && request.method !== 'HEAD') || request.url?.split('?')[0] !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: GET /metrics\n');
      return;
    }
    try {
      const text = await this.metrics.registry.metrics();
      response.writeHead(200, { 'content-type': this.metrics.registry.contentType }).end(request.method === 'HEAD' ? undefined : text);
    } catch (error) {
      this.logger.error({ err: error }, 'metrics could not be rendered');
      response.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n');
    }
  }
}
