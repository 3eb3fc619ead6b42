import { randomBytes } from 'node:crypto';
import { mkdtempSync, openSync, readSync, closeSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../libs/platform/src/infra/free-port';
import { startPostgres, type PostgresHandle } from '../../libs/platform/src/infra/postgres';
import { startInfra, type InfraHandle } from '../../libs/platform/src/infra/stack';
import { serviceEnv, startService, waitForHttp, type ServiceName, type ServiceProcess } from '../../libs/platform/src/launcher';

/**
 * The chaos topology: 2 gateways, 2 identity, 2 assets and 2 ci-runner processes (the built
 * services, dist/) on a private NATS, PostgreSQL and S3 of their own — private because the
 * faults stop and kill them. Every process is addressed by name (`identity-a`, `gateway-b` …).
 */
export interface ChaosProcess {
  name: string;
  service: ServiceName;
  instance: string;
  /** The gateway's base URL and Prometheus port (event-loop lag); undefined for backend services. */
  url?: string;
  metricsPort?: number;
  proc: ServiceProcess;
  /** Set when the process exited (a crash unless a fault killed it and restarted it since). */
  exit?: { code: number | null; at: number };
}

export interface ChaosStack {
  dataDir: string;
  logDir: string;
  urls: string[];
  admin: { username: string; password: string };
  /** Superuser URL of the `gantry` database (reads every schema). */
  databaseUrl: string;
  nats: InfraHandle['nats'];
  processes: Map<string, ChaosProcess>;
  /** SIGKILL/SIGSTOP/SIGCONT/… one process by name. */
  signal(name: string, signal: NodeJS.Signals): void;
  /** Starts a process again (same environment) after it exited or was killed; waits until it is ready. */
  restart(name: string): Promise<void>;
  /** nats-server `kill -9`; returns a function starting it again on the same port and data. */
  killNats(): Promise<() => Promise<void>>;
  /** PostgreSQL fast shutdown (SIGINT); returns a function starting it again on the same port and data. */
  stopPostgres(): Promise<() => Promise<void>>;
  stop(options?: { keepData?: boolean }): Promise<void>;
}

export interface TopologyOptions {
  gateways?: number;
  replicas?: number;
  env?: NodeJS.ProcessEnv;
}

/** Connections per backend process's pool (GANTRY_DATABASE_POOL_SIZE). */
export const POOL_SIZE = 5;

/** Environment for chaos: short detection times so faults resolve within the profile's bounds. */
export const CHAOS_ENV: NodeJS.ProcessEnv = {
  GANTRY_HOST: '127.0.0.1',
  GANTRY_LOG_LEVEL: 'info',
  GANTRY_DATABASE_POOL_SIZE: String(POOL_SIZE),
  GANTRY_RATE_LIMIT_PER_SECOND: '100000', GANTRY_RATE_LIMIT_BURST: '100000',
  GANTRY_RATE_LIMIT_ANON_PER_SECOND: '100000', GANTRY_RATE_LIMIT_ANON_BURST: '100000',
  GANTRY_RUNNER_LOST_SECONDS: '6',
  GANTRY_CI_POLL_MS: '500',
  GANTRY_CI_KILL_GRACE_MS: '1000',
  GANTRY_RELAY_POLL_MS: '500',
  GANTRY_SHUTDOWN_TIMEOUT_MS: '5000',
};

const letter = (i: number) => String.fromCharCode(97 + i);

export async function startChaosStack(options: TopologyOptions = {}): Promise<ChaosStack> {
  const dataDir = mkdtempSync(join(tmpdir(), 'gantry-chaos-'));
  const logDir = join(dataDir, 'logs');
  const infra = await startInfra({ dataDir, durable: false });
  let postgres: PostgresHandle = infra.postgres;
  const processes = new Map<string, ChaosProcess>();
  const stop = async ({ keepData = false } = {}) => {
    const all = [...processes.values()];
    for (const p of all) if (p.proc.pid > 0) tryKill(p.proc.pid, 'SIGCONT'); // a stopped process cannot exit
    await Promise.all(all.filter((p) => p.service === 'gateway').map((p) => p.proc.stop(5000)));
    await Promise.all(all.map((p) => p.proc.stop(5000)));
    await Promise.allSettled([infra.nats.stop(), postgres.stop(), infra.s3.stop()]);
    if (!keepData) rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const { databaseUrl, credentials } = await infra.prepareDatabase('gantry');
    await infra.s3.createBucket('gantry');
    const admin = { username: 'admin', password: randomBytes(16).toString('base64url') };
    const gateways = options.gateways ?? 2;
    const replicas = options.replicas ?? 2;
    const ports = await Promise.all(Array.from({ length: gateways }, () => freePort()));
    // Every process serves /metrics (the soak samples heap and event-loop lag): a port each.
    const metricsPorts = new Map<string, number>();
    const metricsPortOf = async (name: string) => metricsPorts.get(name) ?? metricsPorts.set(name, await freePort()).get(name)!;
    const urls = ports.map((port) => `http://127.0.0.1:${port}`);
    const env = serviceEnv(
      { natsUrl: infra.nats.url, databaseUrl, s3: { ...infra.s3, bucket: 'gantry' }, admin },
      { ...CHAOS_ENV, GANTRY_PUBLIC_URL: urls[0], GANTRY_CI_GATEWAY_URL: urls[0], ...options.env },
    );
    const root = process.cwd();
    const envFor = (service: ServiceName, i: number, metricsPort: number): NodeJS.ProcessEnv => {
      const own = { ...env, GANTRY_METRICS_PORT: String(metricsPort) };
      if (service === 'gateway') return { ...own, GANTRY_PORT: String(ports[i]), GANTRY_GATEWAY_ID: `gateway-${letter(i)}` };
      return service === 'ci-runner' ? { ...own, GANTRY_CI_WORKER_ID: `ci-runner-${letter(i)}` } : own;
    };
    const launch = async (service: ServiceName, i: number) => {
      const name = `${service}-${letter(i)}`;
      const metricsPort = await metricsPortOf(name);
      const proc = startService({ service, instance: letter(i), env: envFor(service, i, metricsPort), credentials, logDir, root });
      const gateway = service === 'gateway';
      processes.set(name, { name, service, instance: letter(i), url: gateway ? urls[i] : undefined, metricsPort, proc });
      const entry = processes.get(name)!;
      void proc.exited.then((code) => (entry.exit = { code, at: Date.now() }));
      return entry;
    };
    const ready = async (p: ChaosProcess, logOffset: number) => {
      if (p.service === 'gateway') {
        let alive = true;
        void p.proc.exited.then(() => (alive = false));
        await waitForHttp(`${p.url}/readyz`, 60000, () => alive);
      } else {
        await waitForLog(p, logOffset, 'service started', 60000);
      }
    };
    // First replicas alone (they run the migrations), then the others and the gateways.
    const backends: ServiceName[] = ['identity', 'assets', 'ci-runner'];
    await Promise.all(backends.map(async (s) => ready(await launch(s, 0), 0)));
    const rest = await Promise.all([...backends.flatMap((s) => Array.from({ length: replicas - 1 }, (_, i) => launch(s, i + 1))), ...ports.map((_, i) => launch('gateway', i))]);
    await Promise.all(rest.map((p) => ready(p, 0)));

    const restart = async (name: string) => {
      const old = processes.get(name);
      if (!old) throw new Error(`no process ${name}`);
      tryKill(old.proc.pid, 'SIGCONT');
      await old.proc.stop(5000);
      const offset = fileSize(old.proc.logFile);
      const p = await launch(old.service, old.instance.charCodeAt(0) - 97);
      await ready(p, offset);
    };
    const signal = (name: string, sig: NodeJS.Signals) => {
      const p = processes.get(name);
      if (!p) throw new Error(`no process ${name}`);
      tryKill(p.proc.pid, sig);
    };
    const killNats = async () => {
      tryKill(infra.nats.pid, 'SIGKILL');
      await waitGone(infra.nats.pid);
      return () => infra.nats.restart();
    };
    const stopPostgres = async () => {
      const port = postgres.port;
      await postgres.stop();
      return async () => {
        postgres = await startPostgres({ dataDir: join(dataDir, 'postgres'), port, durable: false });
      };
    };
    return { dataDir, logDir, urls, admin, databaseUrl, nats: infra.nats, processes, signal, restart, killNats, stopPostgres, stop };
  } catch (error) {
    await stop({ keepData: true });
    throw new Error(`${(error as Error).message}\n(logs kept in ${logDir})`);
  }
}

function tryKill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

async function waitGone(pid: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await sleep(20);
  }
}

function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

function readFrom(file: string, offset: number): string {
  const size = fileSize(file);
  if (size <= offset) return '';
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(size - offset);
    readSync(fd, buffer, 0, buffer.length, offset);
    return buffer.toString('utf8');
  } finally {
    closeSync(fd);
  }
}

async function waitForLog(p: ChaosProcess, offset: number, text: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void p.proc.exited.then(() => (exited = true));
  while (Date.now() < deadline) {
    if (readFrom(p.proc.logFile, offset).includes(text)) return;
    if (exited) throw new Error(`${p.name} exited before it was ready:\n${readFrom(p.proc.logFile, offset).slice(-2000)}`);
    await sleep(50);
  }
  throw new Error(`${p.name} not ready after ${timeoutMs} ms:\n${readFrom(p.proc.logFile, offset).slice(-2000)}`);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
