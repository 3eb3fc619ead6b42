import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';
import { SYSTEM_ACTOR, type RunEndStatus, type RunReason } from '#contracts';
import { Database, LOGGER } from '#platform';
import { CI_CONFIG, type CiConfig } from '../config';
import { RunsService } from './runs.service';

interface Overdue {
  id: string;
  status: RunEndStatus;
  reason: RunReason;
}

/**
 * Ends running runs nobody will end: no heartbeat from their runner (or worker) for
 * GANTRY_RUNNER_LOST_SECONDS → failed `runner_lost`; a remote run past its timeout → `timed_out`;
 * a remote run still running that long after a cancel request → `cancelled`. Every replica sweeps;
 * ending is idempotent (the run's stream decides), so two sweepers cannot end a run twice.
 */
@Injectable()
export class RunSweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer: NodeJS.Timeout | null = null;
  private sweeping: Promise<void> | null = null;

  constructor(
    private readonly db: Database,
    private readonly runs: RunsService,
    @Inject(CI_CONFIG) private readonly config: CiConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    const everyMs = Math.min(this.config.GANTRY_CI_POLL_MS, (this.config.GANTRY_RUNNER_LOST_SECONDS * 1000) / 4);
    this.timer = setInterval(() => {
      this.sweeping ??= this.sweep()
        .then(() => undefined, (error: unknown) => this.logger.warn({ err: String(error) }, 'run sweeper pass failed'))
        .finally(() => (this.sweeping = null));
    }, everyMs);
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.sweeping;
  }

  async sweep(): Promise<number> {
    const { rows } = await this.db.query<Overdue>(
      `SELECT r.id,
              CASE WHEN a.heartbeat_at < now() - $1 * interval '1 second' THEN 'failed'
                   WHEN r.cancel_requested_at IS NOT NULL THEN 'cancelled' ELSE 'timed_out' END AS status,
              CASE WHEN a.heartbeat_at < now() - $1 * interval '1 second' THEN 'runner_lost'
                   WHEN r.cancel_requested_at IS NOT NULL THEN 'cancelled' ELSE 'timed_out' END AS reason
         FROM runs r JOIN run_activity a ON a.run_id = r.id
        WHERE r.status = 'running'
          AND (a.heartbeat_at < now() - $1 * interval '1 second'
               OR (r.executor = 'remote' AND r.cancel_requested_at < now() - $1 * interval '1 second')
               OR (r.executor = 'remote' AND r.started_at + (r.spec->>'timeoutSeconds')::int * interval '1 second' < now()))
        LIMIT 100`,
      [this.config.GANTRY_RUNNER_LOST_SECONDS],
    );
    for (const run of rows) {
      this.logger.warn({ runId: run.id, reason: run.reason }, 'ending an overdue run');
      await this.runs.end(run.id, { status: run.status, exitCode: null, reason: run.reason }, { requestId: null, actor: SYSTEM_ACTOR, ip: null });
    }
    return rows.length;
  }
}
