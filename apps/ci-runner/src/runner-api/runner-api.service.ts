import { Injectable } from '@nestjs/common';
import { GantryError, type ClaimedRun, type Run, type RunEndStatus, type RunReason } from '#contracts';
import { Database, type RequestContext } from '#platform';
import { RunLivePublisher } from '../live/run-live';
import { RunLogStore } from '../logs/run-log.store';
import { RunClaims } from '../runs/run-claims';
import type { RunRow } from '../runs/run-rows';
import { RunsService } from '../runs/runs.service';

const REASON_OF: Record<RunEndStatus, RunReason | null> = { succeeded: null, failed: 'step_failed', cancelled: 'cancelled', timed_out: 'timed_out' };

type Control = { id: string; status: Run['status']; cancelRequested: boolean; logLines: number };

/**
 * The runner API: remote runners claim runs whose labels they have, stream their logs and finish
 * them. A runner touches only runs it claimed; every call counts as a heartbeat for its run.
 */
@Injectable()
export class RunnerApiService {
  constructor(
    private readonly db: Database,
    private readonly claims: RunClaims,
    private readonly runs: RunsService,
    private readonly logs: RunLogStore,
    private readonly live: RunLivePublisher,
  ) {}

  async claim(runnerId: string, runnerName: string, labels: string[], context: RequestContext): Promise<{ run: ClaimedRun | null }> {
    const started = await this.claims.claim({ executor: 'remote', labels }, { kind: 'remote', runnerId, runnerName }, context);
    if (!started) return { run: null };
    const { run, spec, token } = started;
    return { run: { id: run.id, repo: run.repo, job: run.job, number: run.number, steps: spec.steps, env: spec.env ?? {}, params: run.params, timeoutSeconds: spec.timeoutSeconds, token } };
  }

  async log(runnerId: string, runId: string, lines: { seq: number; text: string }[]): Promise<Control> {
    const row = await this.owned(runnerId, runId);
    if (row.status === 'running') {
      for (let i = 1; i < lines.length; i++) {
        if (lines[i].seq !== lines[i - 1].seq + 1) throw new GantryError('invalid_request', 'lines: sequence numbers must be consecutive', 'lines');
      }
      this.live.log(runId, await this.logs.append(runId, lines[0].seq, lines.map((line) => line.text)));
    }
    return (await this.touch(runnerId, [runId]))[0];
  }

  /** Idempotent: finishing again with the same status answers the run; another status → 409. */
  async finish(runnerId: string, runId: string, status: RunEndStatus, exitCode: number | null, context: RequestContext): Promise<Run> {
    const row = await this.owned(runnerId, runId);
    if (row.status !== 'running' && row.status !== 'queued') {
      if (row.status === status) return this.runs.get(runId);
      throw new GantryError('run_finished', `the run has already ended (${row.status})`);
    }
    return this.runs.end(runId, { status, exitCode, reason: REASON_OF[status] }, context);
  }

  async heartbeat(runnerId: string): Promise<{ runs: Control[] }> {
    return { runs: await this.touch(runnerId, null) };
  }

  private async owned(runnerId: string, runId: string): Promise<RunRow> {
    const row = await this.runs.row(this.db, runId);
    if (row.runner?.kind !== 'remote' || row.runner.runnerId !== runnerId) throw new GantryError('forbidden', 'this run was not claimed by this runner');
    return row;
  }

  /** Heartbeat for the runner's running runs (or just `runIds`); their state as the runner must know it. */
  private async touch(runnerId: string, runIds: string[] | null): Promise<Control[]> {
    const { rows } = await this.db.query<{ id: string; status: Run['status']; cancel_requested_at: Date | null; log_lines: number }>(
      `UPDATE run_activity a SET heartbeat_at = CASE WHEN r.status = 'running' THEN now() ELSE a.heartbeat_at END
         FROM runs r
        WHERE r.id = a.run_id AND r.runner->>'runnerId' = $1
          AND (($2::uuid[] IS NULL AND r.status = 'running') OR a.run_id = ANY($2::uuid[]))
        RETURNING r.id, r.status, r.cancel_requested_at, a.log_lines`,
      [runnerId, runIds],
    );
    return rows.map((row) => ({ id: row.id, status: row.status, cancelRequested: row.cancel_requested_at !== null, logLines: row.log_lines }));
  }
}
