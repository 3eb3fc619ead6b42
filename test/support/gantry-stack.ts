import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../libs/platform/src/infra/free-port';
import { serviceEnv, startService, waitForHttp, type ServiceProcess } from '../../libs/platform/src/launcher';
import { testInfra, type TestInfra } from '../../libs/platform/src/testing/test-infra';

export interface GantryStack {
  /** The first gateway's base URL. */
  url: string;
  /** Every gateway's base URL (several when `gateways` > 1). */
  urls: string[];
  infra: TestInfra;
  admin: { username: string; password: string };
  processes: ServiceProcess[];
  logDir: string;
  /** Every line every service logged so far (for secret scans). */
  logs(): string;
  /** Stops a backend service (SIGTERM; the first replica when there are several). */
  stopService(service: 'identity' | 'assets' | 'ci-runner'): Promise<void>;
  /** Starts a stopped backend service again (same environment); stops it first if it runs. */
  restart(service: 'identity' | 'assets' | 'ci-runner'): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The whole product as users run it: the built services (dist/) as separate processes, on this
 * test file's own NATS, database and bucket.
 */
export async function startGantry(
  options: { gateways?: number; ciRunners?: number; env?: NodeJS.ProcessEnv; /** A metrics port for a backend service (GANTRY_METRICS_PORT in `env` is the gateway's). */ metricsPorts?: Partial<Record<'identity' | 'assets' | 'ci-runner', number>> } = {},
): Promise<GantryStack> {
  const infra = await testInfra();
  const logDir = join(infra.dir, 'logs');
  const admin = { username: 'admin', password: randomBytes(16).toString('base64url') };
  const env = serviceEnv(
    { natsUrl: infra.nats.url, databaseUrl: infra.databaseUrl, s3: infra.s3, admin },
    // Tests log in and fail to authenticate far more often than a person: per-IP limits stay out of
    // the way unless a test sets its own (rate-limits.e2e-spec).
    {
      GANTRY_HOST: '127.0.0.1', GANTRY_LOG_LEVEL: 'info', GANTRY_DATABASE_POOL_SIZE: '5',
      GANTRY_RATE_LIMIT_ANON_PER_SECOND: '1000', GANTRY_RATE_LIMIT_ANON_BURST: '1000', ...options.env,
    },
  );
  const root = process.cwd();
  const ports = await Promise.all(Array.from({ length: options.gateways ?? 1 }, () => freePort()));
  const urls = ports.map((port) => `http://127.0.0.1:${port}`);
  // Runs reach the first gateway: GANTRY_URL in a step's environment.
  env.GANTRY_PUBLIC_URL ??= urls[0];
  const { credentials } = infra;
  // A port is one process's: the backend services listen only where metricsPorts says.
  const { GANTRY_METRICS_PORT: _gatewayMetrics, ...backendEnv } = env;
  const envOf = (service: 'identity' | 'assets' | 'ci-runner', first = true) => {
    const port = first ? options.metricsPorts?.[service] : undefined;
    return port === undefined ? backendEnv : { ...backendEnv, GANTRY_METRICS_PORT: String(port) };
  };
  const processes: ServiceProcess[] = (['identity', 'assets'] as const).map((service) => startService({ service, env: envOf(service), credentials, logDir, root }));
  for (let i = 0; i < (options.ciRunners ?? 1); i++) {
    processes.push(startService({ service: 'ci-runner', instance: i === 0 ? undefined : String.fromCharCode(97 + i), env: envOf('ci-runner', i === 0), credentials, logDir, root }));
  }
  ports.forEach((port, i) => processes.push(startService({ service: 'gateway', instance: String.fromCharCode(97 + i), env: { ...env, GANTRY_PORT: String(port) }, credentials, logDir, root })));
  // Gateways first: they flush usage records to identity on the way out.
  const stop = async () => {
    await Promise.all(processes.filter((p) => p.name.startsWith('gateway')).map((p) => p.stop()));
    await Promise.all(processes.map((p) => p.stop()));
    // A service refused by its own NATS permissions is a gap in nats-permissions.ts (connections
    // named `…-probe` break the rules on purpose: security.e2e-spec).
    const violations = infra.nats.violations().filter((line) => !/-probe" - /.test(line));
    await infra.stop();
    if (violations.length > 0) throw new Error(`NATS permission violations by the services:\n${violations.join('\n')}`);
  };
  try {
    let alive = true;
    for (const p of processes) void p.exited.then(() => (alive = false));
    await Promise.all(urls.map((url) => waitForHttp(`${url}/readyz`, 30000, () => alive)));
  } catch (error) {
    const logs = readLogs(logDir);
    await stop();
    throw new Error(`${(error as Error).message}\n--- service logs ---\n${logs.slice(-4000)}`);
  }
  const stopService = async (service: 'identity' | 'assets' | 'ci-runner') => {
    await processes.find((p) => p.name === service)!.stop();
  };
  const restart = async (service: 'identity' | 'assets' | 'ci-runner') => {
    const index = processes.findIndex((p) => p.name === service);
    await processes[index].stop();
    processes[index] = startService({ service, env: envOf(service), credentials, logDir, root });
  };
  return { url: urls[0], urls, infra, admin, processes, logDir, logs: () => readLogs(logDir), stop, stopService, restart };
}

function readLogs(dir: string): string {
  return readdirSync(dir).map((file) => readFileSync(join(dir, file), 'utf8')).join('\n');
}

/** Small fetch wrapper: JSON in, `{status, body, headers}` out. */
export async function call(url: string, init: { method?: string; token?: string; body?: unknown; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { ...init.headers };
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(url, { method: init.method ?? 'GET', headers, body: init.body === undefined ? undefined : JSON.stringify(init.body) });
  const text = await response.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: response.status, body, headers: response.headers };
}

export async function login(stack: GantryStack, username = stack.admin.username, password = stack.admin.password): Promise<string> {
  const response = await call(`${stack.url}/api/v1/auth/login`, { method: 'POST', body: { username, password } });
  if (response.status !== 200) throw new Error(`login failed: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body.token as string;
}
