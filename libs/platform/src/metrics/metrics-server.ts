import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { z } from 'zod';

/** Prometheus' registered default port for exporters of this kind (OpenTelemetry's too). */
export const DEFAULT_METRICS_PORT = 9464;

/** Where a process serves `GET /metrics`: its own listener, never a public port. */
export const MetricsConfigSchema = z.object({
  /** `off`: none; 0: any free port (logged); unset: the process's default (gateway 9464, services off). */
  GANTRY_METRICS_PORT: z.union([z.literal('off'), z.coerce.number().int().min(0).max(65535)]).optional(),
  GANTRY_METRICS_HOST: z.string().default('127.0.0.1'),
});
export type MetricsConfig = z.infer<typeof MetricsConfigSchema>;

/**
 * Serves `registry` as `GET /metrics` on GANTRY_METRICS_HOST:GANTRY_METRICS_PORT, or on
 * `defaultPort` when no port is configured (null: no listener). Route names, status counts and
 * process figures are for the operator's scraper, not for the internet. A port given explicitly
 * that cannot be bound is a startup error; the default port being taken (several processes on one
 * host) only costs this process its metrics, with a warning. Returns the server, or null.
 */
export async function serveMetrics(registry: Registry, config: MetricsConfig, logger: Logger, defaultPort: number | null): Promise<Server | null> {
  const configured = config.GANTRY_METRICS_PORT;
  const port = configured ?? defaultPort;
  if (port === 'off' || port === null) return null;
  const host = config.GANTRY_METRICS_HOST;
  const server = createServer((request, response) => void answer(registry, logger, request, response));
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
  } catch (error) {
    if (configured !== undefined) throw new Error(`metrics listener: cannot listen on ${host}:${configured}: ${(error as Error).message}`, { cause: error });
    logger.warn({ err: error }, `metrics listener off: ${host}:${port} is taken (set GANTRY_METRICS_PORT)`);
    return null;
  }
  const bound = (server.address() as AddressInfo).port;
  logger.info({ url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}/metrics` }, 'metrics listening');
  return server;
}

export function closeMetrics(server: Server | null): Promise<void> {
  return server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
}

async function answer(registry: Registry, logger: Logger, request: IncomingMessage, response: ServerResponse): Promise<void> {
  if ((request.method !== 'GET' && request.method !== 'HEAD') || request.url?.split('?')[0] !== '/metrics') {
    response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: GET /metrics\n');
    return;
  }
  try {
    const text = await registry.metrics();
    response.writeHead(200, { 'content-type': registry.contentType }).end(request.method === 'HEAD' ? undefined : text);
  } catch (error) {
    logger.error({ err: error }, 'metrics could not be rendered');
    response.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n');
  }
}
