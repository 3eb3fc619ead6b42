import { Injectable } from '@nestjs/common';
import { v7 as uuidv7 } from 'uuid';
import { CiRequests, GantryError, type Run, type RunListQuerySchema, type RunStatus } from '#contracts';
import { Database, EventStore, Idempotency, type NewEvent, type RequestContext, type Tx } from '#platform';
import type { z } from 'zod';
import { JobsService } from '../jobs/jobs.service';
import { RunLivePublisher } from '../live/run-live';
import { RUN_SELECT, toRun, type RunRow } from './run-rows';
import { decideCancel, decideEnd, decideQueue, evolveRun, initialRunState, runSpecOf, runStream, type RunOutcome, type RunState } from './runs.decider';

type ListQuery = z.infer<typeof RunListQuerySchema> & { repoId: string };

/** Triggering, reading, cancelling and ending runs; every change is an event on the run's stream. */
@Injectable()
export class RunsService {
  constructor(
    private readonly db: Database,
    private readonly store: EventStore,
    private readonly jobs: JobsService,
    private readonly live: RunLivePublisher,
    private readonly idempotency: Idempotency,
  ) {}

  async trigger(repoId: string, repo: string, jobName: string, params: Record<string, string>, context: RequestContext): Promise<Run> {
    const runId = uuidv7();
    // With an Idempotency-Key a retry gets the run as it was queued, and queues nothing.
    let queued = false;
    const run = await this.store.execute((tx) => this.idempotency.once(tx, context, { secret: false, response: CiRequests.runs.trigger.response }, async () => {
      const job = await this.jobs.get(repoId, jobName, tx);
      const spec = runSpecOf({ steps: job.steps, env: job.env, timeoutSeconds: job.timeoutSeconds, runsOn: job.runsOn, params: job.params });
      // A refused trigger rolls the counter back with the rest of the transaction.
      const number = await this.nextNumber(tx, repoId, jobName);
      const events = decideQueue({ runId, repoId, repo, job: jobName, number, spec, params });
      await this.store.append(tx, runStream(runId), 0, events, context);
      queued = true;
      return this.get(runId, tx);
    }));
    if (queued && run.runsOn !== 'local') this.live.remoteRunQueued(run.id, run.runsOn.labels);
    return run;
  }

  async get(runId: string, tx: Tx = this.db): Promise<Run> {
    return toRun(await this.row(tx, runId));
  }

  async row(tx: Tx, runId: string): Promise<RunRow> {
    const { rows } = await tx.query<RunRow>(`${RUN_SELECT} WHERE r.id = $1`, [runId]);
    if (!rows[0]) throw new GantryError('not_found', 'no such run');
    return rows[0];
  }

  /** Newest first; the cursor is the last id of the previous page. */
  async list(query: ListQuery): Promise<{ items: Run[]; nextCursor: string | null }> {
    const after = query.cursor === undefined ? null : decodeCursor(query.cursor);
    const { rows } = await this.db.query<RunRow>(
      `${RUN_SELECT} WHERE r.repo_id = $1 AND ($2::text IS NULL OR r.status = $2) AND ($3::text IS NULL OR r.job = $3)
          AND ($4::uuid IS NULL OR r.id < $4) ORDER BY r.id DESC LIMIT $5`,
      [query.repoId, query.status ?? null, query.job ?? null, after, query.limit + 1],
    );
    const items = rows.slice(0, query.limit).map(toRun);
    const nextCursor = rows.length > query.limit ? Buffer.from(items[items.length - 1].id).toString('base64url') : null;
    return { items, nextCursor };
  }

  /** Queued: ends it. Running: records the request and tells its executor. Ended: 409 run_finished. */
  async cancel(runId: string, context: RequestContext): Promise<Run> {
    const events = await this.command(runId, (state) => decideCancel(state, new Date()), context);
    const run = await this.get(runId);
    if (events.some((event) => event.contract.type === 'ci.run.cancel_requested')) this.live.cancel(runId);
    if (events.length > 0) this.live.status(run);
    return run;
  }

  /** Ends the run with `outcome` unless it already ended; returns the run as it now is. */
  async end(runId: string, outcome: RunOutcome, context: RequestContext): Promise<Run> {
    const events = await this.command(runId, (state) => decideEnd(state, outcome, new Date()), context);
    const run = await this.get(runId);
    if (events.length > 0) this.live.status(run);
    return run;
  }

  /** The run's state from its events (for deciders). */
  async load(tx: Tx, runId: string): Promise<RunState> {
    return (await this.store.readStream(tx, runStream(runId))).reduce(evolveRun, initialRunState);
  }

  /** Folds the run, decides, appends; retried from scratch when another writer got there first. */
  async command(runId: string, decide: (state: RunState) => NewEvent[], context: RequestContext): Promise<NewEvent[]> {
    return this.store.execute(async (tx) => {
      const state = await this.load(tx, runId);
      if (state.status === null) throw new GantryError('not_found', 'no such run');
      const events = decide(state);
      await this.store.append(tx, runStream(runId), state.version, events, context);
      return events;
    });
  }

  private async nextNumber(tx: Tx, repoId: string, job: string): Promise<number> {
    const { rows } = await tx.query<{ last: number }>(
      `INSERT INTO run_numbers (repo_id, job, last) VALUES ($1, $2, 1)
       ON CONFLICT (repo_id, job) DO UPDATE SET last = run_numbers.last + 1 RETURNING last`,
      [repoId, job],
    );
    return rows[0].last;
  }
}

export function isEnded(status: RunStatus): boolean {
  return status !== 'queued' && status !== 'running';
}

function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString();
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id)) throw new GantryError('invalid_request', 'cursor: not a cursor from a previous page', 'cursor');
  return id;
}
