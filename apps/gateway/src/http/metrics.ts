import { Injectable } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/** Prometheus metrics: requests by route and status, and a latency histogram. */
@Injectable()
export class HttpMetrics {
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: 'gantry_http_requests_total', help: 'HTTP requests by method, route and status',
    labelNames: ['method', 'route', 'status'] as const, registers: [this.registry],
  });
  private readonly latency = new Histogram({
    name: 'gantry_http_request_duration_seconds', help: 'HTTP request latency by method and route',
    labelNames: ['method', 'route'] as const, buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'gantry_gateway_' });
  }

  // Label-bound children, kept so the hot path skips prom-client's per-call label hashing.
  private readonly counters = new Map<string, ReturnType<typeof this.requests.labels>>();
  private readonly timers = new Map<string, ReturnType<typeof this.latency.labels>>();

  /** Observes every response, using the route template (not the raw URL) as the label. */
  install(fastify: FastifyInstance): void {
    fastify.addHook('onResponse', (request, reply, done) => {
      const route = request.routeOptions.url ?? 'unmatched';
      const key = `${request.method} ${route}`;
      const status = reply.statusCode;
      let timer = this.timers.get(key);
      if (!timer) this.timers.set(key, (timer = this.latency.labels(request.method, route)));
      let counter = this.counters.get(`${key} ${status}`);
      if (!counter) this.counters.set(`${key} ${status}`, (counter = this.requests.labels(request.method, route, String(status))));
      counter.inc();
      timer.observe(reply.elapsedTime / 1000);
      done();
    });
  }
}
