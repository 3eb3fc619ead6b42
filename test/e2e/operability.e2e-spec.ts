import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { freePort } from '../../libs/platform/src/infra/free-port';
import { readEventsStream } from '../../libs/platform/src/testing/stream-reader';
import { waitFor } from '../../libs/platform/src/testing/wait-for';
import { call, login, startGantry, type GantryStack } from '../support/gantry-stack';

describe('operability: health, readiness, metrics, request ids, events, shutdown', () => {
  let stack: GantryStack;
  let nc: NatsConnection;
  let metricsUrl: string;
  let identityMetricsUrl: string;

  beforeAll(async () => {
    const [metricsPort, identityMetricsPort] = [await freePort(), await freePort()];
    metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    identityMetricsUrl = `http://127.0.0.1:${identityMetricsPort}/metrics`;
    stack = await startGantry({ env: { GANTRY_METRICS_PORT: String(metricsPort) }, metricsPorts: { identity: identityMetricsPort } });
    nc = await connect({ servers: stack.infra.nats.url, ...stack.infra.nats.admin });
  });
  afterAll(async () => {
    await nc?.close();
    await stack?.stop();
  });

  it('/healthz and /readyz answer without credentials', async () => {
    expect((await call(`${stack.url}/healthz`)).status).toBe(200);
    const ready = await call(`${stack.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ready', checks: { nats: 'up', identity: 'up', assets: 'up', 'ci-runner': 'up' } });
  });

  it('serves the OpenAPI description publicly', async () => {
    const response = await call(`${stack.url}/api/v1/openapi.json`);
    expect(response.status).toBe(200);
    expect(response.body.openapi).toBe('3.1.0');
    expect(Object.keys(response.body.paths)).toContain('/api/v1/repos/{owner}/{repo}');
  });

  it('/metrics, on its own listener (GANTRY_METRICS_PORT), counts requests by route template and status', async () => {
    await call(`${stack.url}/api/v1/user`);
    expect((await call(`${stack.url}/metrics`)).status).toBe(404); // not on the public port
    const text = (await call(metricsUrl)).body as string;
    expect(text).toMatch(/gantry_http_requests_total\{method="GET",route="\/api\/v1\/user",status="401"\} \d+/);
    expect(text).toContain('gantry_http_request_duration_seconds_bucket');
  });

  it('a backend service serves its own /metrics when GANTRY_METRICS_PORT is set: process figures and what its relay published', async () => {
    await login(stack); // session.started: one more event for identity's relay
    const published = await waitFor(async () => {
      const text = (await call(identityMetricsUrl)).body as string;
      const value = Number(/^gantry_identity_outbox_published_total (\d+)$/m.exec(text)?.[1] ?? 0);
      return value > 0 ? text : null;
    }, { message: 'identity metrics never counted a published event' });
    expect(published).toMatch(/^gantry_identity_nodejs_heap_size_used_bytes \d+/m);
    expect(published).toMatch(/^gantry_identity_nodejs_eventloop_lag_p99_seconds [\d.e-]+$/m);
    expect(published).toMatch(/^gantry_identity_outbox_duplicates_total 0$/m);
    expect((await call(identityMetricsUrl.replace('/metrics', '/other'))).status).toBe(404);
  });

  it('keeps a sane caller X-Request-Id and carries it into the event metadata', async () => {
    const requestId = `test-${Date.now()}`;
    const response = await call(`${stack.url}/api/v1/auth/login`, {
      method: 'POST', body: { username: stack.admin.username, password: stack.admin.password }, headers: { 'x-request-id': requestId },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toBe(requestId);
    const event = await waitFor(async () => (await readEventsStream(nc)).find((e) => e.requestId === requestId), { message: 'session.started not on the stream' });
    expect(event).toMatchObject({ type: 'identity.session.started', actor: { kind: 'user', name: 'admin' }, subject: { kind: 'user' } });
    expect(event.ip).toBe('127.0.0.1');
    expect(JSON.stringify(event)).not.toContain(response.body.token);
  });

  it('replaces an unsafe X-Request-Id', async () => {
    const response = await call(`${stack.url}/healthz`, { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(response.headers.get('x-request-id')).not.toBe('bad id with spaces');
  });

  it('the bootstrap admin is on the event stream, without a password or hash', async () => {
    const events = await waitFor(async () => {
      const all = await readEventsStream(nc);
      return all.some((e) => e.type === 'identity.user.created') ? all : undefined;
    }, { message: 'user.created not published' });
    const created = events.find((e) => e.type === 'identity.user.created')!;
    expect(created.data).toMatchObject({ username: 'admin', role: 'admin', bootstrap: true });
    const text = JSON.stringify(events);
    expect(text).not.toContain(stack.admin.password);
    expect(text).not.toMatch(/argon2/);
  });

  it('logs are JSON and never carry the admin password or a token', async () => {
    const token = await login(stack);
    await call(`${stack.url}/api/v1/user`, { token });
    const lines = stack.logs().split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThan(5);
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    expect(stack.logs()).not.toContain(stack.admin.password);
    expect(stack.logs()).not.toContain(token);
  });

  it('fails closed: identity down → 503 identity_unavailable, readiness 503; back when it returns', async () => {
    const identity = stack.processes.find((p) => p.name === 'identity')!;
    expect(await identity.stop()).toBe(0); // graceful shutdown on SIGTERM exits cleanly
    const response = await call(`${stack.url}/api/v1/auth/login`, { method: 'POST', body: { username: 'admin', password: stack.admin.password } });
    expect(response.status).toBe(503);
    expect(response.body.error.code).toBe('identity_unavailable');
    // /readyz answers from a check at most a second old (it is public and fans out to every service).
    const ready = await waitFor(async () => {
      const answer = await call(`${stack.url}/readyz`);
      return answer.status === 503 ? answer : undefined;
    }, { timeoutMs: 3000, message: '/readyz never said not ready' });
    expect(ready.body.checks.identity).toBe('down');

    await stack.restart('identity');
    await waitFor(async () => (await call(`${stack.url}/readyz`)).status === 200, { timeoutMs: 30000, message: 'not ready again after identity restarted' });
    expect((await call(`${stack.url}/api/v1/auth/login`, { method: 'POST', body: { username: 'admin', password: stack.admin.password } })).status).toBe(200);
  });
});
