import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { connect } from 'node:net';
import { delimiter, join } from 'node:path';

export interface ManagedProcess {
  child: ChildProcess;
  pid: number;
  running(): boolean;
  /** The last output it wrote (stderr and stdout), for error messages. */
  tail(): string;
  exited: Promise<number | null>;
  /** Sends `signal`, waits for the exit, and SIGKILLs it after `graceMs`. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

export interface SpawnOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  uid?: number;
  gid?: number;
  /** The signal that stops it cleanly (default SIGTERM; PostgreSQL's fast shutdown is SIGINT). */
  stopSignal?: NodeJS.Signals;
  /**
   * Its own process group, so a Ctrl-C in the terminal reaches only our process, which then stops
   * things in order (services first, infrastructure last). Default false: a Ctrl-C stops it with
   * us, which is what a test run or a benchmark without signal handlers wants.
   */
  detached?: boolean;
}

/**
 * Spawns a server, keeping the tail of its output for diagnostics. An exit hook signals it if our
 * process exits without stopping it (an uncaught error), so it does not outlive us.
 */
export function spawnServer(command: string, args: string[], options: SpawnOptions = {}): ManagedProcess {
  const { stopSignal = 'SIGTERM', detached = false, ...spawnOptions } = options;
  const child = spawn(command, args, { ...spawnOptions, detached, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const running = () => child.pid !== undefined && child.exitCode === null && child.signalCode === null;
  const orphanGuard = () => running() && child.kill(stopSignal);
  process.once('exit', orphanGuard);
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.once('error', (error) => {
      output += `\n${error.message}`;
      resolve(-1);
    });
  }).finally(() => process.removeListener('exit', orphanGuard));
  const stop = async (signal: NodeJS.Signals = stopSignal, graceMs = 5000) => {
    if (!running()) return void (await exited);
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };
  return { child, pid: child.pid ?? -1, running, tail: () => output.trim(), exited, stop };
}

/**
 * Polls `probe` until it returns true. Fails at once when the server exits (a port in use, a bad
 * flag) instead of waiting for the deadline, and quotes the server's last output either way.
 */
export async function waitUntilReady(server: ManagedProcess, what: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!server.running()) {
      await server.exited;
      throw new Error(`${what} exited (code ${server.child.exitCode ?? server.child.signalCode}) before it was ready:\n${server.tail()}`);
    }
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) {
      await server.stop('SIGKILL');
      throw new Error(`${what} was not ready after ${timeoutMs} ms:\n${server.tail()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The first executable named `name` on PATH, then in `extraDirs`; null when there is none. */
export function findExecutable(name: string, extraDirs: string[] = []): string | null {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...extraDirs];
  for (const dir of dirs) {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not in this directory
    }
  }
  return null;
}

/** Whether a failed start was a port taken between freePort() and the server's bind. */
export function isAddressInUse(error: unknown): boolean {
  return error instanceof Error && /address already in use/i.test(error.message);
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
export function acceptsConnections(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, timeout: timeoutMs });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}
