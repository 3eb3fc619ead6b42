import { DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import pg from 'pg';
import { EVENTS_STREAM } from '#contracts';
import { sleep, type ChaosStack } from './topology';
import type { OpRecord, PhaseStats } from './workload';

const EVENT_TABLES = ['identity.events', 'ci.events', 'assets.events'];
/** Subjects of the services whose events are stored in PostgreSQL first (the outbox). */
const STORED_SUBJECT = /^events\.(identity|ci|assets)\./;
const ALL_EVENTS = EVENT_TABLES.map((t) => `SELECT id, type, meta, published_at FROM ${t}`).join(' UNION ALL ');

/** What the suite reads behind the API: the database as superuser and the EVENTS stream as admin. */
export class Checker {
  private db: pg.Client | null = null;
  private nc: NatsConnection | null = null;
  /** Stream ids seen so far (count per id), read incrementally by sequence. */
  private readonly streamIds = new Map<string, number>();
  private readonly subjects = new Map<string, string>();
  private lastSeq = 0;

  constructor(private readonly stack: ChaosStack) {}

  /** A fresh client per call after a PostgreSQL restart; retried while the server is coming back. */
  async query<R extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<pg.QueryResult<R>> {
    for (let attempt = 0; ; attempt++) {
      try {
        if (!this.db) {
          const client = new pg.Client({ connectionString: this.stack.databaseUrl, connectionTimeoutMillis: 3000, application_name: 'chaos-checker' });
          client.on('error', () => (this.db = null));
          await client.connect();
          this.db = client;
        }
        return await this.db.query<R>(sql, params);
      } catch (error) {
        await this.db?.end().catch(() => undefined);
        this.db = null;
        if (attempt >= 20) throw error;
        await sleep(500);
      }
    }
  }

  private async nats(): Promise<NatsConnection> {
    if (!this.nc || this.nc.isClosed()) {
      this.nc = await connect({ servers: this.stack.nats.url, ...this.stack.nats.admin, name: 'chaos-checker', maxReconnectAttempts: -1, reconnectTimeWait: 250 });
    }
    return this.nc;
  }

  async close(): Promise<void> {
    await this.db?.end().catch(() => undefined);
    await this.nc?.close().catch(() => undefined);
  }

  /** Waits until every gateway answers /readyz 200; returns the time it took (ms) or null past the bound. */
  async readyz(boundMs: number): Promise<number | null> {
    const started = Date.now();
    const pending = new Set(this.stack.urls);
    while (Date.now() - started < boundMs) {
      await Promise.all(
        [...pending].map(async (url) => {
          const ok = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1500) }).then((r) => r.status === 200, () => false);
          if (ok) pending.delete(url);
        }),
      );
      if (pending.size === 0) return Date.now() - started;
      await sleep(100);
    }
    return null;
  }

  /**
   * Service connections (the services' own roles) to the gantry database: pool clients carry the
   * service's application_name, LISTEN connections (pg-listener) none.
   */
  async connections(): Promise<Connections> {
    const result = await this.query<{ total: string; listeners: string }>(
      `SELECT count(*) AS total, count(*) FILTER (WHERE application_name = '') AS listeners FROM pg_stat_activity
       WHERE datname = current_database() AND usename <> current_user AND backend_type = 'client backend'`,
    );
    const total = Number(result.rows[0].total);
    const listeners = Number(result.rows[0].listeners);
    return { total, listeners, pool: total - listeners };
  }

  /**
   * Waits (bounded) until the LISTEN connections are back to the baseline's and the total at or
   * under it; returns the lowest total, the last listener count and the largest pool count seen.
   * Pools close idle clients after 10 s, but clients kept warm by the 500 ms polls may stay: the
   * total can sit one or two above an idle baseline without any leak.
   */
  async connectionsBackTo(baseline: Connections, boundMs: number): Promise<Connections & { ms: number }> {
    const started = Date.now();
    let now = await this.connections();
    let lowest = now.total;
    let pool = now.pool;
    while ((now.listeners !== baseline.listeners || lowest > baseline.total) && Date.now() - started < boundMs) {
      await sleep(500);
      now = await this.connections();
      lowest = Math.min(lowest, now.total);
      pool = Math.max(pool, now.pool);
    }
    return { total: lowest, listeners: now.listeners, pool, ms: Date.now() - started };
  }

  /** The service connections by role, application and state: what a failed count reports. */
  async connectionDetail(): Promise<string> {
    const result = await this.query<{ usename: string; app: string; state: string; n: string; oldest: string }>(
      `SELECT usename, application_name AS app, state, count(*) AS n, round(extract(epoch FROM max(now() - state_change)))::text AS oldest
       FROM pg_stat_activity WHERE datname = current_database() AND usename <> current_user AND backend_type = 'client backend'
       GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
    );
    return result.rows.map((r) => `${r.usename}/${r.app || '-'}/${r.state} ×${r.n} (oldest ${r.oldest} s)`).join(', ');
  }

  /** Waits until no event is unpublished; returns the time it took, or null past the bound. */
  async drained(boundMs: number): Promise<{ ms: number | null; unpublished: number }> {
    const started = Date.now();
    let unpublished = 0;
    while (Date.now() - started < boundMs) {
      const result = await this.query<{ n: string }>(`SELECT count(*) AS n FROM (${ALL_EVENTS}) e WHERE published_at IS NULL`);
      unpublished = Number(result.rows[0].n);
      if (unpublished === 0) return { ms: Date.now() - started, unpublished };
      await sleep(200);
    }
    return { ms: null, unpublished };
  }

  /** Largest commit → published_at delay of events that occurred since `since` (ms). */
  async maxPublishLag(since: number): Promise<number> {
    const result = await this.query<{ lag: string | null }>(
      `SELECT max(extract(epoch FROM (published_at - (meta->>'occurredAt')::timestamptz)) * 1000) AS lag
       FROM (${ALL_EVENTS}) e WHERE (meta->>'occurredAt')::timestamptz >= to_timestamp($1 / 1000.0)`,
      [since],
    );
    return Math.round(Number(result.rows[0].lag ?? 0));
  }

  /**
   * When the last event committed before `healedAt` was published, relative to `healedAt` (ms; 0 or
   * less: the backlog was gone before the heal).
   */
  async backlogPublished(since: number, healedAt: number): Promise<number | null> {
    const result = await this.query<{ last: string | null }>(
      `SELECT extract(epoch FROM max(published_at)) * 1000 AS last FROM (${ALL_EVENTS}) e
       WHERE (meta->>'occurredAt')::timestamptz BETWEEN to_timestamp($1 / 1000.0) AND to_timestamp($2 / 1000.0)`,
      [since, healedAt],
    );
    return result.rows[0].last === null ? null : Math.max(0, Math.round(Number(result.rows[0].last) - healedAt));
  }

  /** Opens the NATS connection early, so connection counts include it before and after. */
  async connect(): Promise<void> {
    await this.nats();
  }

  /** Reads the EVENTS stream from where the last call stopped (headers only: Nats-Msg-Id). */
  private async readStream(): Promise<void> {
    const nc = await this.nats();
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(EVENTS_STREAM.name);
    const target = info.state.last_seq;
    if (target <= this.lastSeq) return;
    const consumer = await jetstream(nc).consumers.get(EVENTS_STREAM.name, {
      deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: this.lastSeq + 1, headers_only: true,
    });
    while (this.lastSeq < target) {
      const batch = await consumer.fetch({ max_messages: 1000, expires: 3000 });
      let got = 0;
      for await (const message of batch) {
        got++;
        this.lastSeq = message.seq;
        const id = message.headers?.get('Nats-Msg-Id') ?? '';
        this.streamIds.set(id, (this.streamIds.get(id) ?? 0) + 1);
        this.subjects.set(id, message.subject);
        if (this.lastSeq >= target) break;
      }
      if (got === 0) break;
    }
    await consumer.delete().catch(() => undefined);
  }

  /**
   * Events in PostgreSQL vs distinct event ids on EVENTS (cumulative since the start). Only the
   * subjects of the services with an event store (events.identity|ci|assets.>) are compared;
   * anything else on the stream (e.g. events.gateway.*, published without a store) is counted apart.
   */
  async compareEvents(): Promise<{ pg: number; stream: number; distinct: number; duplicates: number; missing: string[]; unknown: string[]; unstored: Map<string, number> }> {
    await this.readStream();
    const result = await this.query<{ id: string }>(`SELECT id FROM (${ALL_EVENTS}) e`);
    const pgIds = new Set(result.rows.map((r) => r.id));
    const missing = [...pgIds].filter((id) => !this.streamIds.has(id));
    const unknown: string[] = [];
    const unstored = new Map<string, number>();
    let stream = 0;
    let distinct = 0;
    for (const [id, n] of this.streamIds) {
      const subject = this.subjects.get(id) ?? '';
      if (STORED_SUBJECT.test(subject)) {
        stream += n;
        distinct++;
        if (!pgIds.has(id)) unknown.push(`${id} (${subject})`);
      } else {
        const family = subject.split('.').slice(0, 3).join('.');
        unstored.set(family, (unstored.get(family) ?? 0) + n);
      }
    }
    return { pg: pgIds.size, stream, distinct, duplicates: stream - distinct, missing, unknown, unstored };
  }

  /** Events (count per rid and type) carrying the workload's request ids. */
  async eventsByRequest(): Promise<Map<string, Map<string, number>>> {
    const result = await this.query<{ rid: string; type: string; n: string }>(
      `SELECT meta->>'requestId' AS rid, type, count(*) AS n FROM (${ALL_EVENTS}) e WHERE meta->>'requestId' LIKE 'chaos-%' GROUP BY 1, 2`,
    );
    const byRid = new Map<string, Map<string, number>>();
    for (const row of result.rows) {
      if (!byRid.has(row.rid)) byRid.set(row.rid, new Map());
      byRid.get(row.rid)!.set(row.type, Number(row.n));
    }
    return byRid;
  }

  /** Runs not ended yet (queued or running), waited for up to the bound. */
  async unfinishedRuns(boundMs: number): Promise<{ id: string; status: string; runner: unknown }[]> {
    const started = Date.now();
    for (;;) {
      const result = await this.query<{ id: string; status: string; runner: unknown }>(`SELECT id, status, runner FROM ci.runs WHERE status IN ('queued', 'running')`);
      if (result.rows.length === 0 || Date.now() - started > boundMs) return result.rows;
      await sleep(500);
    }
  }

  async run(id: string): Promise<{ status: string; reason: string | null; runner: any; ended_at: Date | null } | undefined> {
    const result = await this.query<{ status: string; reason: string | null; runner: any; ended_at: Date | null }>(`SELECT status, reason, runner, ended_at FROM ci.runs WHERE id = $1`, [id]);
    return result.rows[0];
  }

  async natsConnections(): Promise<number> {
    const response = await fetch(`${this.stack.nats.monitorUrl}/connz`, { signal: AbortSignal.timeout(2000) });
    return ((await response.json()) as { num_connections: number }).num_connections;
  }
}

export interface Connections {
  total: number;
  listeners: number;
  pool: number;
}

/** Durability of what the client was told, from the workload's records and the events. */
export interface OpAudit {
  ok2xx: number;
  okWithoutEvent: OpRecord[];
  refused: number;
  refusedApplied: OpRecord[];
  /** Creates whose primary event appears more than once (a retry applied twice). */
  duplicateApplied: OpRecord[];
}

export function auditOps(phase: PhaseStats, events: Map<string, Map<string, number>>): OpAudit {
  const audit: OpAudit = { ok2xx: 0, okWithoutEvent: [], refused: 0, refusedApplied: [], duplicateApplied: [] };
  for (const op of phase.ops) {
    const byType = events.get(op.rid);
    const count = op.eventTypes.reduce((sum, type) => sum + (byType?.get(type) ?? 0), 0);
    const ok = typeof op.status === 'number' && op.status >= 200 && op.status < 300;
    if (ok) {
      audit.ok2xx++;
      if (count === 0) audit.okWithoutEvent.push(op);
    } else if (op.status === 'ERR' || (typeof op.status === 'number' && op.status >= 500)) {
      audit.refused++;
      if (count > 0) audit.refusedApplied.push(op);
    }
    if (op.create && count > 1) audit.duplicateApplied.push(op);
  }
  return audit;
}
