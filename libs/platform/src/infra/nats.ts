import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './free-port';
import { NATS_ADMIN_USER, NATS_SERVICE_USERS, natsAuthorizationBlock, type NatsUser } from './nats-permissions';
import { acceptsConnections, findExecutable, isAddressInUse, spawnServer, waitUntilReady, type ManagedProcess } from './process';

/** A NATS user's credentials, named as `connect()` takes them: `connect({ servers, ...credentials })`. */
export interface NatsCredentials {
  user: string;
  pass: string;
}

export interface NatsHandle {
  /** nats://127.0.0.1:PORT — it refuses connections without a user (nats-permissions.ts). */
  url: string;
  /** http://127.0.0.1:MONITOR_PORT (/healthz, /jsz, /connz) */
  monitorUrl: string;
  port: number;
  /** Every user: one per service, limited by nats-permissions.ts, and the full-rights admin. */
  users: Record<NatsUser, NatsCredentials>;
  /** The full-rights user, for tests and tools: `connect({ servers: nats.url, ...nats.admin })`. */
  admin: NatsCredentials;
  /** Permission violations the server logged since it started (its log lines), newest last. */
  violations(): string[];
  /** The current server process (changes on restart). */
  readonly pid: number;
  /** SIGTERM, then SIGKILL after 5 s; resolves once the process has exited. */
  stop(): Promise<void>;
  /** Starts again on the same ports and data directory (JetStream file storage survives). */
  restart(): Promise<void>;
}

export interface NatsOptions {
  dataDir: string;
  port?: number;
  monitorPort?: number;
  /** The nats-server binary; found (or installed) by ensureNatsServer() when absent. */
  binary?: string;
  /** Own process group: a terminal Ctrl-C does not reach it (see SpawnOptions.detached). */
  detached?: boolean;
  /** Passwords of the users; the ones not given are random, new on every start. */
  passwords?: Partial<Record<NatsUser, string>>;
}

const EXTRA_DIRS = ['/usr/sbin', '/usr/local/sbin', '/usr/local/bin', '/usr/bin'];
const INSTALL_HINT = 'nats-server is not installed: run `sudo apt-get install -y nats-server` (or put nats-server 2.9+ on PATH)';
const run = promisify(execFile);

/** The nats-server binary path; installs the Debian package when missing and running as root. */
export async function ensureNatsServer(): Promise<string> {
  const found = findExecutable('nats-server', EXTRA_DIRS);
  if (found) return found;
  if (process.getuid?.() !== 0) throw new Error(INSTALL_HINT);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () => run('apt-get', ['install', '-y', '-q', 'nats-server'], { env, maxBuffer: 16 << 20 });
  try {
    await install();
  } catch {
    // A fresh machine has no package lists yet.
    await run('apt-get', ['update', '-q'], { env, maxBuffer: 16 << 20 });
    await install().catch((error: { stderr?: string }) => {
      throw new Error(`apt-get install nats-server failed: ${String(error.stderr ?? error).trim().split('\n').pop()}`);
    });
  }
  const installed = findExecutable('nats-server', EXTRA_DIRS);
  if (!installed) throw new Error('apt-get install nats-server did not provide a nats-server binary');
  return installed;
}

/**
 * nats-server with JetStream (file storage under dataDir/jetstream) and monitoring, on loopback,
 * with authorization: a user per service with its subject allow-lists and a full-rights admin,
 * written to dataDir/nats.conf (mode 0600). Anonymous connections are refused.
 */
export async function startNats(options: NatsOptions): Promise<NatsHandle> {
  const binary = options.binary ?? (await ensureNatsServer());
  mkdirSync(options.dataDir, { recursive: true });
  const users = Object.fromEntries(
    ([...NATS_SERVICE_USERS, NATS_ADMIN_USER] as NatsUser[]).map((user) => [user, { user, pass: options.passwords?.[user] ?? randomBytes(18).toString('base64url') }]),
  ) as Record<NatsUser, NatsCredentials>;
  const configFile = join(options.dataDir, 'nats.conf');
  const passwords = Object.fromEntries(Object.values(users).map(({ user, pass }) => [user, { literal: pass }]));
  writeFileSync(configFile, `# Written by the Gantry launcher on every start (random passwords): do not edit.\n${natsAuthorizationBlock(passwords)}`, { mode: 0o600 });
  chmodSync(configFile, 0o600);
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freePort());
    const monitorPort = options.monitorPort ?? (await freePort());
    try {
      return await natsOn(binary, { ...options, port, monitorPort, configFile, users });
    } catch (error) {
      const portsChosenHere = options.port === undefined || options.monitorPort === undefined;
      if (!portsChosenHere || attempt >= 3 || !isAddressInUse(error)) throw error;
    }
  }
}

const MAX_VIOLATIONS = 1000;

async function natsOn(
  binary: string,
  options: NatsOptions & { port: number; monitorPort: number; configFile: string; users: Record<NatsUser, NatsCredentials> },
): Promise<NatsHandle> {
  const { port, monitorPort, users } = options;
  const monitorUrl = `http://127.0.0.1:${monitorPort}`;
  // The config holds the users; the flags (which win over it) the rest.
  const args = ['-c', options.configFile, '-a', '127.0.0.1', '-p', String(port), '-js', '-sd', join(options.dataDir, 'jetstream'), '-m', String(monitorPort)];
  let server: ManagedProcess | undefined;
  const violations: string[] = [];
  // nats-server logs `[ERR] … - Publish Violation - User "gateway", Subject "…"` (and Subscription Violation).
  const watch = () => {
    let partial = '';
    return (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) if (/ Violation /.test(line)) violations.push(line.trim());
      if (violations.length > MAX_VIOLATIONS) violations.splice(0, violations.length - MAX_VIOLATIONS);
    };
  };
  const launch = async () => {
    server = spawnServer(binary, args, { detached: options.detached });
    server.child.stderr?.on('data', watch());
    server.child.stdout?.on('data', watch());
    // nats-server opens the monitor port before the client port: ready means both answer.
    const healthy = async () =>
      (await fetch(`${monitorUrl}/healthz?js-enabled-only=true`, { signal: AbortSignal.timeout(1000) })).ok && (await acceptsConnections(port));
    await waitUntilReady(server, `nats-server on port ${port}`, healthy, 15000);
  };
  const stop = async () => server?.stop('SIGTERM', 5000);
  await launch();
  return {
    url: `nats://127.0.0.1:${port}`,
    monitorUrl,
    port,
    users,
    admin: users[NATS_ADMIN_USER],
    violations: () => [...violations],
    get pid() {
      return server?.pid ?? -1;
    },
    stop,
    restart: async () => {
      await stop();
      await launch();
    },
  };
}
