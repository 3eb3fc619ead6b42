import type { Actor, Run, RunnerRef, RunReason, RunsOn, RunStatus } from '#contracts';
import type { EventDataOf, CiEvents } from '#contracts';

type RunSpec = EventDataOf<typeof CiEvents.runQueued>['spec'];

/** A `runs` row joined with its activity (what RUN_SELECT reads). */
export interface RunRow {
  id: string;
  repo_id: string;
  repo: string;
  job: string;
  number: number;
  status: RunStatus;
  params: Record<string, string>;
  spec: RunSpec;
  executor: 'local' | 'remote';
  labels: string[];
  triggered_by: Actor;
  created_at: Date;
  started_at: Date | null;
  ended_at: Date | null;
  exit_code: number | null;
  reason: RunReason | null;
  runner: RunnerRef | null;
  cancel_requested_at: Date | null;
  log_lines: number;
}

export const RUN_SELECT = 'SELECT r.*, a.log_lines FROM runs r JOIN run_activity a ON a.run_id = r.id';

export function toRun(row: RunRow): Run {
  return {
    id: row.id, repoId: row.repo_id, repo: row.repo, job: row.job, number: row.number, status: row.status,
    params: row.params, runsOn: row.spec.runsOn as RunsOn, timeoutSeconds: row.spec.timeoutSeconds,
    createdAt: row.created_at.toISOString(), triggeredBy: row.triggered_by,
    startedAt: row.started_at?.toISOString() ?? null, endedAt: row.ended_at?.toISOString() ?? null,
    exitCode: row.exit_code, reason: row.reason, runner: row.runner,
    cancelRequested: row.cancel_requested_at !== null, logLines: row.log_lines,
  };
}
