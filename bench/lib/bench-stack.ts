import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../libs/platform/src/infra/free-port';
import type { S3Coordinates } from '../../libs/platform/src/infra/s3';
import { startInfra } from '../../libs/platform/src/infra/stack';
import { serviceEnv, startService, waitForHttp, type ServiceProcess } from '../../libs/platform/src/launcher';

export interface BenchStack {
  gatewayUrls: string[];
  gatewayPids: number[];
  /** The ci-runner, whose steps reach gateway A (GANTRY_URL). */
  ciRunnerPid: number;
  /** Identity, whose outbox relay the events section measures. */
  identityPid: number;
  admin: { username: string; password: string };
  natsUrl: string;
  /** NATS refuses anonymous connections: `connect({ servers: natsUrl, ...natsAdmin })` (full rights). */
  natsAdmin: { user: string; pass: string };
  databaseUrl: string;
  /** s3rver, which startInfra runs inside this process (so on this process's CPU), and the bucket assets use. */
  s3: S3Coordinates & { bucket: string };
  stop(): Promise<void>;
}

/** The real stack (built services as processes) on throwaway infrastructure. */
/** `gateways` lists each gateway's extra environment (e.g. a cache-less one). */
export async function startBenchStack(gateways: NodeJS.ProcessEnv[] = [{}]): Promise<BenchStack> {
  const dataDir = mkdtempSync(join(tmpdir(), 'gantry-bench-'));
  const infra = await startInfra({ dataDir, durable: false });
  const { databaseUrl, credentials } = await infra.prepareDatabase('gantry');
  await infra.s3.createBucket('gantry');
  const admin = { username: 'admin', password: randomBytes(16).toString('base64url') };
  const env = serviceEnv(
    { natsUrl: infra.nats.url, databaseUrl, s3: { endpoint: infra.s3.endpoint, accessKey: infra.s3.accessKey, secretKey: infra.s3.secretKey, bucket: 'gantry' }, admin },
    // Limits stay on (their cost is measured) but high enough never to trip under load.
    { GANTRY_HOST: '127.0.0.1', GANTRY_LOG_LEVEL: 'warn', GANTRY_RATE_LIMIT_PER_SECOND: '1000000', GANTRY_RATE_LIMIT_BURST: '1000000',
      GANTRY_RATE_LIMIT_ANON_PER_SECOND: '1000000', GANTRY_RATE_LIMIT_ANON_BURST: '1000000' },
  );
  const logDir = join(dataDir, 'logs');
  const root = process.cwd();
  // Ports first: the ci-runner hands gateway A's URL to every step (GANTRY_URL), so steps can call it.
  const ports = await Promise.all(gateways.map(() => freePort()));
  const gatewayUrls = ports.map((port) => `http://127.0.0.1:${port}`);
  const ciEnv = { ...env, GANTRY_PUBLIC_URL: gatewayUrls[0], GANTRY_CI_GATEWAY_URL: gatewayUrls[0] };
  const processes: ServiceProcess[] = [
    startService({ service: 'identity', env, credentials, logDir, root }),
    startService({ service: 'assets', env, credentials, logDir, root }),
    startService({ service: 'ci-runner', env: ciEnv, credentials, logDir, root }),
  ];
  const ciRunnerPid = processes[2].pid;
  const identityPid = processes[0].pid;
  const gatewayPids = gateways.map((extra, i) => {
    const gateway = startService({ service: 'gateway', instance: String(i), env: { ...env, ...extra, GANTRY_PORT: String(ports[i]) }, credentials, logDir, root });
    processes.push(gateway);
    return gateway.pid;
  });
  await Promise.all(gatewayUrls.map((url) => waitForHttp(`${url}/readyz`, 60000)));
  return {
    gatewayUrls, gatewayPids, ciRunnerPid, identityPid, admin, natsUrl: infra.nats.url, natsAdmin: infra.nats.admin, databaseUrl,
    s3: { endpoint: infra.s3.endpoint, accessKey: infra.s3.accessKey, secretKey: infra.s3.secretKey, bucket: 'gantry' },
    stop: async () => {
      await Promise.all(processes.filter((p) => p.name.startsWith('gateway')).map((p) => p.stop()));
      await Promise.all(processes.map((p) => p.stop()));
      await infra.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Bare Fastify in its own process, as the gateway is; `/same` answers `sameBody`. */
export async function startBaseline(sameBody: string): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [join(process.cwd(), 'dist', 'bench', 'baseline-server.js'), '0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, BASELINE_SAME_BODY: sameBody },
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.once('data', (chunk: Buffer) => resolve(chunk.toString().trim()));
    child.once('exit', () => reject(new Error('baseline server exited')));
  });
  await waitForHttp(`${url}/hello`, 10000);
  return {
    url,
    pid: child.pid!,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}

export async function createPat(url: string, session: string, name: string): Promise<{ id: string; token: string }> {
  const response = await fetch(`${url}/api/v1/user/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${session}` },
    body: JSON.stringify({ name, scopes: ['repo:read'] }),
  });
  if (response.status !== 201) throw new Error(`PAT creation failed: ${response.status}`);
  return (await response.json()) as { id: string; token: string };
}

export async function loginToken(url: string, admin: { username: string; password: string }): Promise<string> {
  const response = await fetch(`${url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(admin) });
  if (response.status !== 200) throw new Error(`login failed: ${response.status}`);
  return ((await response.json()) as { token: string }).token;
}
