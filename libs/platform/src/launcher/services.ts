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
  /** Exit code and signal, once the process has exited and its output is in the log file. */
  status: Promise<ExitStatus>;
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
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
  const label = options.instance ? `${options.service}-${options.instance}` : options.service;
  return startLoggedProcess({
    name: label,
    args: [join(options.root, 'dist', 'apps', options.service, 'src', 'main.js')],
    env: withCredentials(options.env, options.service, options.credentials),
    logDir: options.logDir,
    cwd: options.root,
  });
}

export interface LoggedProcessOptions {
  /** Also the log file's name: `<logDir>/<name>.log` (appended to, so restarts keep the history). */
  name: string;
  /** Arguments to `node` (this process's executable): the script and its arguments. */
  args: string[];
  env?: NodeJS.ProcessEnv;
  logDir: string;
  cwd?: string;
}

/** How long after the exit the log waits for output still in the pipes (a grandchild may hold them open). */
const LOG_DRAIN_MS = 1000;

/** A node process with stdout and stderr appended to its log file: what startService runs, for any script. */
export function startLoggedProcess(options: LoggedProcessOptions): ServiceProcess {
  mkdirSync(options.logDir, { recursive: true });
  const logFile = join(options.logDir, `${options.name}.log`);
  const log = createWriteStream(logFile, { flags: 'a' });
  // A late write must not take the launcher down with it.
  log.on('error', () => undefined);
  const child = spawn(process.execPath, options.args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.pipe(log, { end: false });
  child.stderr!.pipe(log, { end: false });
  const exit = new Promise<ExitStatus>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', (error) => {
      log.write(`${error.message}\n`);
      resolve({ code: -1, signal: null });
    });
  });
  const exited = exit.then((s) => s.code);
  // The log ends once the pipes are drained (or shortly after the exit), and only then is the status final.
  const drained = new Promise<void>((resolve) => {
    child.once('close', () => resolve());
    void exit.then(() => setTimeout(resolve, LOG_DRAIN_MS).unref());
  });
  const status = Promise.all([exit, drained])
    .then(([s]) => {
      child.stdout!.unpipe(log);
      child.stderr!.unpipe(log);
      return new Promise<ExitStatus>((resolve) => log.end(() => resolve(s)));
    });
  return { name: options.name, pid: child.pid ?? -1, logFile, exited, status, stop: (graceMs = 10000) => stopChild(child, exited, graceMs) };
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
