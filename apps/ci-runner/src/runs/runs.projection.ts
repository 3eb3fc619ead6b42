import { Injectable } from '@nestjs/common';
import { CiEvents } from '#contracts';
import { narrowEvent, type Projection, type StoredEvent, type Tx } from '#platform';

/** Runs as the API shows them. run_activity and the stored log are not events: a replay keeps them. */
@Injectable()
export class RunsProjection implements Projection {
  readonly name = 'runs';

  async reset(tx: Tx): Promise<void> {
    await tx.query('DELETE FROM runs');
  }

  async apply(tx: Tx, event: StoredEvent): Promise<void> {
    if (narrowEvent(event, CiEvents.runQueued)) {
      const { runId, repoId, repo, job, number, params, spec } = event.data;
      const [executor, labels] = spec.runsOn === 'local' ? ['local', []] : ['remote', spec.runsOn.labels];
      await tx.query(
        `INSERT INTO runs (id, repo_id, repo, job, number, status, params, spec, executor, labels, triggered_by, created_at)
         VALUES ($1, $2, $3, $4, $5, 'queued', $6, $7, $8, $9, $10, $11)`,
        [runId, repoId, repo, job, number, params, spec, executor, labels, event.meta.actor, event.occurredAt],
      );
      await tx.query('INSERT INTO run_activity (run_id) VALUES ($1) ON CONFLICT DO NOTHING', [runId]);
    } else if (narrowEvent(event, CiEvents.runStarted)) {
      await tx.query(`UPDATE runs SET status = 'running', started_at = $2, runner = $3 WHERE id = $1`, [event.data.runId, event.occurredAt, event.data.runner]);
    } else if (narrowEvent(event, CiEvents.runCancelRequested)) {
      await tx.query('UPDATE runs SET cancel_requested_at = $2 WHERE id = $1', [event.data.runId, event.occurredAt]);
    } else if (narrowEvent(event, CiEvents.runEnded)) {
      const { runId, status, exitCode, reason } = event.data;
      await tx.query('UPDATE runs SET status = $2, ended_at = $3, exit_code = $4, reason = $5 WHERE id = $1', [runId, status, event.occurredAt, exitCode, reason]);
    }
  }
}
