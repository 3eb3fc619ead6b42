import { Logger } from '@nestjs/common';
import pg from 'pg';

/** A transaction's view of the database: plain parameterised SQL. */
export interface Tx {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<pg.QueryResult<R>>;
}

export interface DatabaseOptions {
  url: string;
  /** The service's own schema; every connection's search_path points at it. */
  schema: string;
  poolSize: number;
  applicationName: string;
}

/**
 * The service's connection pool to its own PostgreSQL schema. TypeORM runs the migrations at start
 * (see runMigrations); the hot paths use `pg` directly with hand-written SQL.
 */
export class Database implements Tx {
  readonly pool: pg.Pool;
  private readonly outage = new OutageLog(new Logger('database'));

  constructor(readonly options: DatabaseOptions) {
    this.pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolSize,
      // Unreachable database: fail the caller (and shutdown) after a while instead of waiting for ever.
      connectionTimeoutMillis: 5000,
      application_name: options.applicationName,
      options: `-c search_path=${quoteIdent(options.schema)}`,
    });
    // An idle client losing its connection must not crash the process; the pool replaces it.
    this.pool.on('error', () => undefined);
    // pg-pool takes its idle listener off a client when it hands it out; an 'error' before the
    // caller listens (57P01 from a fast shutdown in the same read as the checkout's last message)
    // was an unhandled 'error' event that killed the process. Every client keeps a listener of its
    // own; callers still see the failure on their next query.
    this.pool.on('connect', (client) => client.on('error', () => undefined));
  }

  query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<pg.QueryResult<R>> {
    return this.outage.watch(this.pool.query<R>(sql, params));
  }

  /** Runs `work` in one transaction: commit on success, rollback on any error. */
  async transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    const client = await this.outage.watch(this.pool.connect());
    // pg-pool takes its error listener off a checked-out client. A connection lost while no query
    // runs on it (a database restart while the relay awaits NATS acks) would then be an unhandled
    // 'error' event that kills the process; here it only fails this transaction.
    let broken: Error | undefined;
    const onError = (error: Error) => (broken = error);
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await this.outage.watch(client.query('COMMIT'));
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch((rollbackError: Error) => (broken ??= rollbackError));
      throw error;
    } finally {
      client.off('error', onError);
      client.release(broken); // a broken connection is discarded, not handed to the next caller
    }
  }

  /** True when a trivial query succeeds: the readiness probe's database check. */
  async isUp(): Promise<boolean> {
    try {
      await this.pool.query('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

export function quoteIdent(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`unsafe SQL identifier: ${name}`);
  return `"${name}"`;
}

/**
 * Says once that the database went away and once that it came back, however many requests fail
 * in between (an outage is one event, not ten thousand error lines with stacks).
 */
class OutageLog {
  private outage: { since: number; failures: number } | null = null;

  constructor(private readonly logger: Logger) {}

  async watch<T>(operation: Promise<T>): Promise<T> {
    try {
      const result = await operation;
      if (this.outage) this.ended();
      return result;
    } catch (error) {
      if (isDatabaseUnavailable(error)) this.failed(error);
      throw error;
    }
  }

  private failed(error: unknown): void {
    if (this.outage) {
      this.outage.failures++;
      return;
    }
    this.outage = { since: Date.now(), failures: 1 };
    this.logger.warn(`database unavailable (${error instanceof Error ? error.message : String(error)}); requests that need it are answered service_unavailable until it is back`);
  }

  private ended(): void {
    this.logger.log(`database reachable again after ${Date.now() - this.outage!.since} ms (${this.outage!.failures} operations failed meanwhile)`);
    this.outage = null;
  }
}

/** PostgreSQL's unique_violation, raised e.g. by the (stream_id, version) key. */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const pgError = error as { code?: string; constraint?: string };
  return pgError?.code === '23505' && (constraint === undefined || pgError.constraint === constraint);
}

/**
 * Errors that mean "the database is not there right now" rather than "this query is wrong": no
 * connection (refused, reset, timed out), the server shutting down or starting (57P01–57P03), too
 * many connections (53300), or a connection exception (class 08). Callers answer 503, not 500.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown };
  if (typeof e?.code === 'string') {
    if (/^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENOTFOUND|EAI_AGAIN)$/.test(e.code)) return true;
    if (/^(57P0[123]|53300|08...)$/.test(e.code)) return true;
  }
  const message = typeof e?.message === 'string' ? e.message : '';
  return /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended unexpectedly)/.test(message);
}
