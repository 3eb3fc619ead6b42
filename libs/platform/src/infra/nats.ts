import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './free-port';
import { spawnServer, until, type ManagedProcess } from './process';

export interface NatsHandle {
  url: string;
  monitorUrl: string;
  port: number;
  pid: number;
  stop(): Promise<void>;
  /** Starts again on the same port and data directory (JetStream state survives). */
  restart(): Promise<void>;
}

const CANDIDATES = ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server'];

function findNatsServer(): string | null {
  try {
    return execFileSync('sh', ['-c', 'command -v nats-server'], { encoding: 'utf8' }).trim() || null;
  } catch {
    return CANDIDATES.find((path) => existsSync(path)) ?? null;
  }
}

/** The nats-server binary; installed with apt-get when missing and running as root. */
export function ensureNatsServer(): string {
  const found = findNatsServer();
  if (found) return found;
  if (process.getuid?.() !== 0) {
    throw new Error('nats-server is not installed: run `sudo apt-get install -y nats-server` (or put nats-server 2.9+ on PATH)');
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    execFileSync('apt-get', ['install', '-y', '-q', 'nats-server'], { env, stdio: 'ignore' });
  } catch {
    execFileSync('apt-get', ['update', '-q'], { env, stdio: 'ignore' });
    execFileSync('apt-get', ['install', '-y', '-q', 'nats-server'], { env, stdio: 'ignore' });
  }
  const installed = findNatsServer();
  if (!installed) throw new Error('apt-get install nats-server did not provide a nats-server binary');
  return installed;
}

/** nats-server with JetStream (file storage under dataDir) and the monitoring port, on loopback. */
export async function startNats(options: { dataDir: string; port?: number; monitorPort?: number }): Promise<NatsHandle> {
  const binary = ensureNatsServer();
  const port = options.port ?? (await freePort());
  const monitorPort = options.monitorPort ?? (await freePort());
  mkdirSync(options.dataDir, { recursive: true });
  const monitorUrl = `http://127.0.0.1:${monitorPort}`;
  let server: ManagedProcess;
  const launch = async () => {
    server = spawnServer(binary, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', join(options.dataDir, 'jetstream'), '-m', String(monitorPort)]);
    await until(
      async () => server.child.exitCode === null && (await fetch(`${monitorUrl}/healthz?js-enabled-only=true`)).ok,
      15000,
      () => `nats-server did not become healthy on port ${port}: ${server.tail()}`,
    );
  };
  await launch();
  return {
    url: `nats://127.0.0.1:${port}`, monitorUrl, port,
    get pid() {
      return server.child.pid!;
    },
    stop: () => server.stop(),
    restart: launch,
  };
}
