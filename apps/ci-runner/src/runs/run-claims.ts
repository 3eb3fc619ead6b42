import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { IdentityRequests, type Run, type RunnerRef } from '#contracts';
import { Database, EventStore, LOGGER, RpcClient, type RequestContext, type Tx } from '#platform';
import { CI_CONFIG, type CiConfig } from '../config';
import { RunLivePublisher } from '../live/run-live';
import { RUN_SELECT, type RunRow } from './run-rows';
import { decideStart, runStream } from './runs.decider';
import { RunsService } from './runs.service';

/** Which queued runs a claimer may take: the local executor's, or a remote runner's by labels. */
export type ClaimTarget = { executor: 'local' } | { executor: 'remote'; labels: string[] };

export interface StartedRun {
  run: Run;
  spec: RunRow['spec'];
  /** The run's `gtc_` token: for its executor only. */
  token: string;
}

type Attempt = { started: RunRow; token: string } | { failed: RunRow; error: unknown } | null;

/**
 * Exactly-once start of queued runs across replicas: the oldest matching run is locked with
 * FOR UPDATE SKIP LOCKED (replicas skip each other's), its token is issued by identity, and
 * `run.started` is appended in that same transaction. If identity cannot issue the token the run
 * stays queued and is retried with backoff, until GANTRY_CI_TOKEN_WAIT_SECONDS.
 */
@Injectable()
export class RunClaims {
  constructor(
    private readonly db: Database,
    private readonly store: EventStore,
    private readonly runs: RunsService,
    private readonly rpc: RpcClient,
    private readonly live: RunLivePublisher,
    @Inject(CI_CONFIG) private readonly config: CiConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async claim(target: ClaimTarget, runner: RunnerRef, context: RequestContext): Promise<StartedRun | null> {
    const attempt: Attempt = await this.store.execute(async (tx) => {
      const row = await this.nextQueued(tx, target);
      if (!row) return null;
      const state = await this.runs.load(tx, row.id);
      if (state.status !== 'queued') return null; // the read model lags its stream (a replay in progress)
      const expiresAt = new Date(Date.now() + (row.spec.timeoutSeconds + 600) * 1000).toISOString();
      let token: string;
      try {
        token = (await this.rpc.request(IdentityRequests.ciTokens.issue, { runId: row.id, repoId: row.repo_id, expiresAt }, context)).token;
      } catch (error) {
        return { failed: row, error };
      }
      await this.store.append(tx, runStream(row.id), state.version, decideStart(state, runner), context);
      await tx.query('UPDATE run_activity SET heartbeat_at = now() WHERE run_id = $1', [row.id]);
      return { started: row, token };
    });
    if (attempt === null) return null;
    if ('failed' in attempt) {
      await this.tokenFailed(attempt.failed, attempt.error, context);
      return null;
    }
    const run = await this.runs.get(attempt.started.id);
    this.live.status(run);
    return { run, spec: attempt.started.spec, token: attempt.token };
  }

  private async nextQueued(tx: Tx, target: ClaimTarget): Promise<RunRow | null> {
    const { rows } = await tx.query<RunRow>(
      `${RUN_SELECT}
        WHERE r.status = 'queued' AND r.executor = $1 AND ($2::text[] IS NULL OR r.labels <@ $2::text[])
          AND (a.next_attempt_at IS NULL OR a.next_attempt_at <= now())
        ORDER BY r.created_at LIMIT 1
        FOR UPDATE OF r SKIP LOCKED`,
      [target.executor, target.executor === 'remote' ? target.labels : null],
    );
    return rows[0] ?? null;
  }

  /** Backs off (0.5 s, 1 s, 2 s … 30 s) or, past the wait, fails the run with token_unavailable. */
  private async tokenFailed(row: RunRow, error: unknown, context: RequestContext): Promise<void> {
    const waitedMs = Date.now() - row.created_at.getTime();
    if (waitedMs >= this.config.GANTRY_CI_TOKEN_WAIT_SECONDS * 1000) {
      this.logger.error({ runId: row.id, err: String(error) }, 'no token for the run in time: failing it');
      await this.runs.end(row.id, { status: 'failed', exitCode: null, reason: 'token_unavailable' }, context);
      return;
    }
    const { rows } = await this.db.query<{ token_attempts: number }>(
      `UPDATE run_activity SET token_attempts = token_attempts + 1,
              next_attempt_at = now() + least(30000, 500 * 2 ^ token_attempts) * interval '1 millisecond'
        WHERE run_id = $1 RETURNING token_attempts`,
      [row.id],
    );
    if (rows[0]?.token_attempts === 1) this.logger.warn({ runId: row.id, err: String(error) }, 'identity could not issue the run token: retrying with backoff');
  }
}
