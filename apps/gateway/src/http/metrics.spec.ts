import { Histogram, Registry } from 'prom-client';
import { HttpMetrics, LATENCY_BUCKETS } from './metrics';

/** The gateway tallies requests itself; its exposition must read exactly as prom-client's own. */
describe('HttpMetrics', () => {
  const observations: [string, string, number, number][] = [
    ['GET', '/api/v1/user', 200, 0.0004],
    ['GET', '/api/v1/user', 200, 0.001], // on a bucket's upper bound: counts in that bucket
    ['GET', '/api/v1/user', 401, 0.03],
    ['POST', '/api/v1/repos', 201, 7], // beyond the last bucket: only +Inf
  ];

  const lines = (text: string, prefix: string) => text.split('\n').filter((line) => line.startsWith(prefix));

  it('renders the latency histogram as a prom-client Histogram with the same buckets would', async () => {
    const metrics = new HttpMetrics();
    const reference = new Registry();
    const histogram = new Histogram({
      name: 'gantry_http_request_duration_seconds', help: 'HTTP request latency by method and route',
      labelNames: ['method', 'route'], buckets: LATENCY_BUCKETS, registers: [reference],
    });
    for (const [method, route, status, seconds] of observations) {
      metrics.record(method, route, status, seconds);
      histogram.labels(method, route).observe(seconds);
    }
    const ours = lines(await metrics.registry.metrics(), 'gantry_http_request_duration_seconds');
    expect(ours).toHaveLength(2 * 14);
    expect(ours).toEqual(lines(await reference.metrics(), 'gantry_http_request_duration_seconds'));
  });

  it('counts requests by method, route and status', async () => {
    const metrics = new HttpMetrics();
    for (const [method, route, status, seconds] of observations) metrics.record(method, route, status, seconds);
    expect(lines(await metrics.registry.metrics(), 'gantry_http_requests_total')).toEqual([
      'gantry_http_requests_total{method="GET",route="/api/v1/user",status="200"} 2',
      'gantry_http_requests_total{method="GET",route="/api/v1/user",status="401"} 1',
      'gantry_http_requests_total{method="POST",route="/api/v1/repos",status="201"} 1',
    ]);
  });
});
