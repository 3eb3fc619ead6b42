import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ServiceCredentials } from '../infra/service-credentials';
import { withCredentials } from './service-env';

export const SERVICE_NAMES = ['identity', 'assets', 'ci-runner', 'gateway'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export interface ServiceProcess {
  name: string;
  pid: number;
  logFile: string;
  /** SIGTERM (graceful shutdown), SIGKILL after the grace period. Resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
  exited: Promise<number | null>;
}

export interface StartServiceOptions {
  service: ServiceName;
  /** Distinguishes replicas in log file names: `gateway-b.log`. */
  instance?: string;
  env: NodeJS.ProcessEnv;
  /** Every service's own NATS user and database role; this one's are added to `env`. */
  credentials: ServiceCredentials;
  logDir: string;
  /** Repository root holding dist/. */
  root: string;
}

/** Starts one built service (`node dist/apps/<name>/src/main.js`) with its output in a log file. */
export function startService(options: StartServiceOptions): ServiceProcess {
  mkdirSync(options.logDir, { recursive: true });
  const label = options.instance ? `${options.service}-${options.instance}` : options.service;
  const logFile = join(options.logDir, `${label}.log`);
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(process.execPath, [join(options.root, 'dist', 'apps', options.service, 'src', 'main.js')], {
    cwd: options.root,
    env: withCredentials(options.env, options.service, options.credentials),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.pipe(log, { end: false });
  child.stderr!.pipe(log, { end: false });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  void exited.then(() => log.end());
  return { name: label, pid: child.pid!, logFile, exited, stop: (graceMs = 10000) => stopChild(child, exited, graceMs) };
}

async function stopChild(child: ChildProcess, exited: Promise<number | null>, graceMs: number): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return exited;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  try {
    return await exited;
  } finally {
    clearTimeout(timer);
  }
}

/** Polls a URL until it answers 200, or throws after the deadline (with what it last saw). */
export async function waitForHttp(url: string, timeoutMs: number, isAlive?: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (isAlive && !isAlive()) throw new Error(`a service exited while waiting for ${url}`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (response.status === 200) return;
      last = `${response.status} ${await response.text()}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms: ${last}`);
}
