import { chmodSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import pg from 'pg';

/** The superuser initdb creates; trust auth on loopback, so URLs carry no password. */
export const POSTGRES_USER = 'gantry';

export interface PostgresStart {
  dataDir: string;
  port: number;
  durable: boolean;
  detached: boolean;
}

/** Starts a server and returns the function that stops it. */
export type PostgresStarter = (options: PostgresStart) => Promise<() => Promise<void>>;

/** Unix sockets have a 107-byte path limit; past it, TCP only (we never use the socket). */
export function socketDir(dataDir: string): string {
  return join(dataDir, '.s.PGSQL.65535').length < 100 ? dataDir : '';
}

/** Server settings: loopback only, enough connections for a test run, and optionally no fsync. */
export function serverFlags(options: Pick<PostgresStart, 'dataDir' | 'port' | 'durable'>): string[] {
  const flags = ['-p', String(options.port), '-k', socketDir(options.dataDir), '-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=300'];
  // A throwaway cluster need not survive a power cut; fsync off makes DDL-heavy tests several times faster.
  if (!options.durable) flags.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
  return flags;
}

/**
 * The postgres user must traverse every parent of the data dir. Adds only the others-execute
 * bit where it is missing (e.g. a 0700 mkdtemp dir); never removes bits (/tmp keeps 1777).
 */
export function ensureTraversable(dataDir: string): void {
  for (let dir = dirname(resolve(dataDir)); ; dir = dirname(dir)) {
    const mode = statSync(dir).mode & 0o7777;
    if ((mode & 0o001) === 0) chmodSync(dir, mode | 0o001);
    if (dir === dirname(dir)) return;
  }
}

/** Whether the server accepts a login on the `postgres` database. */
export async function canConnect(port: number): Promise<boolean> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: POSTGRES_USER, database: 'postgres', connectionTimeoutMillis: 1000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return true;
  } finally {
    await client.end().catch(() => undefined);
  }
}
