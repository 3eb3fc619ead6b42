import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './free-port';
import { acceptsConnections, findExecutable, isAddressInUse, spawnServer, waitUntilReady, type ManagedProcess } from './process';

export interface NatsHandle {
  /** nats://127.0.0.1:PORT */
  url: string;
  /** http://127.0.0.1:MONITOR_PORT (/healthz, /jsz, /connz) */
  monitorUrl: string;
  port: number;
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

/** nats-server with JetStream (file storage under dataDir/jetstream) and monitoring, on loopback. */
export async function startNats(options: NatsOptions): Promise<NatsHandle> {
  const binary = options.binary ?? (await ensureNatsServer());
  mkdirSync(options.dataDir, { recursive: true });
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freePort());
    const monitorPort = options.monitorPort ?? (await freePort());
    try {
      return await natsOn(binary, { ...options, port, monitorPort });
    } catch (error) {
      const portsChosenHere = options.port === undefined || options.monitorPort === undefined;
      if (!portsChosenHere || attempt >= 3 || !isAddressInUse(error)) throw error;
    }
  }
}

async function natsOn(binary: string, options: NatsOptions & { port: number; monitorPort: number }): Promise<NatsHandle> {
  const { port, monitorPort } = options;
  const monitorUrl = `http://127.0.0.1:${monitorPort}`;
  const args = ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', join(options.dataDir, 'jetstream'), '-m', String(monitorPort)];
  let server: ManagedProcess | undefined;
  const launch = async () => {
    server = spawnServer(binary, args, { detached: options.detached });
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
