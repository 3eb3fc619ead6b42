import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { RequestContext } from '#platform';
import { Database, LOGGER, NATS_CONNECTION, PgListener } from '#platform';
import { CI_CONFIG, type CiConfig } from '../config';
import type { Execution, Executor } from '../executor/executor';
import { RunLivePublisher } from '../live/run-live';
import { RunLogStore } from '../logs/run-log.store';
import { RunLogWriter } from '../logs/run-log.writer';
import { RunClaims, type StartedRun } from '../runs/run-claims';
import { RunsService } from '../runs/runs.service';
import { runEnvironment } from './run-environment';

export const LOCAL_EXECUTOR = Symbol('LOCAL_EXECUTOR');

/**
 * Takes queued `runsOn: local` runs, up to GANTRY_CI_CONCURRENCY at once, and executes them with
 * the local executor: woken by the event store's NOTIFY (a trigger appends an event), polling as a
 * fallback. Beats for its running runs (a replica that dies has its runs failed as runner_lost by
 * the sweeper) and stops a run when its cancel request arrives.
 */
@Injectable()
export class LocalWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly workerId: string;
  private readonly running = new Map<string, Execution>();
  private listener: PgListener | null = null;
  private cancels: Subscription | null = null;
  private timers: NodeJS.Timeout[] = [];
  private claiming = false;
  private claimAgain = false;
  private stopped = false;

  constructor(
    private readonly db: Database,
    private readonly claims: RunClaims,
    private readonly runs: RunsService,
    private readonly logs: RunLogStore,
    private readonly live: RunLivePublisher,
    @Inject(LOCAL_EXECUTOR) private readonly executor: Executor,
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(CI_CONFIG) private readonly config: CiConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.workerId = config.GANTRY_CI_WORKER_ID ?? `${hostname()}-${process.pid}`;
  }

  private get context(): RequestContext {
    return { requestId: null, actor: { kind: 'service', id: this.workerId, name: 'ci-runner' }, ip: null };
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.GANTRY_CI_CONCURRENCY === 0) return;
    // Any replica may receive the cancel request; only the one executing the run acts on it.
    this.cancels = this.nc.subscribe('ci.runs.*.cancel', { callback: (_, message) => this.running.get(message.subject.split('.')[2])?.cancel('cancelled') });
    this.listener = new PgListener({
      url: this.db.options.url,
      channel: `${this.db.options.schema}_events`,
      onNotify: () => this.wake(),
      onError: (error) => this.logger.warn({ err: error.message }, 'worker: LISTEN connection lost; polling until it is back'),
    });
    await this.listener.start();
    const beatMs = Math.max(500, (this.config.GANTRY_RUNNER_LOST_SECONDS * 1000) / 4);
    this.timers = [setInterval(() => this.wake(), this.config.GANTRY_CI_POLL_MS), setInterval(() => void this.beat(), beatMs)];
  }

  /** Stops taking runs and ends the running ones (their processes killed) before the pool closes. */
  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    this.cancels?.unsubscribe();
    await this.listener?.stop();
    for (const execution of this.running.values()) execution.cancel('shutdown');
    await Promise.all([...this.running.values()].map((execution) => execution.outcome));
    while (this.running.size > 0) await new Promise((resolve) => setTimeout(resolve, 10));
  }

  /** Claims runs while there is capacity; concurrent wake-ups fold into one more round. */
  wake(): void {
    if (this.stopped) return;
    if (this.claiming) return void (this.claimAgain = true);
    this.claiming = true;
    void this.claimWhileFree()
      .catch((error: unknown) => this.logger.warn({ err: String(error) }, 'worker: claiming a run failed; will retry'))
      .finally(() => {
        this.claiming = false;
        if (this.claimAgain) {
          this.claimAgain = false;
          this.wake();
        }
      });
  }

  private async claimWhileFree(): Promise<void> {
    while (!this.stopped && this.running.size < this.config.GANTRY_CI_CONCURRENCY) {
      const started = await this.claims.claim({ executor: 'local' }, { kind: 'local', worker: this.workerId }, this.context);
      if (!started) return;
      this.execute(started);
    }
  }

  private execute({ run, spec, token }: StartedRun): void {
    const writer = new RunLogWriter(run.id, this.logs, (lines) => this.live.log(run.id, lines), this.logger);
    const gatewayUrl = this.config.GANTRY_CI_GATEWAY_URL ?? this.config.GANTRY_PUBLIC_URL;
    const execution = this.executor.start(
      { runId: run.id, steps: spec.steps, env: runEnvironment(run, spec, token, gatewayUrl), timeoutMs: spec.timeoutSeconds * 1000, secrets: [token] },
      writer,
    );
    this.running.set(run.id, execution);
    void execution.outcome
      .then(async (outcome) => {
        await writer.close();
        await this.runs.end(run.id, outcome, this.context);
      })
      .catch((error: unknown) => this.logger.error({ err: String(error), runId: run.id }, 'worker: could not record the end of a run (the sweeper will)'))
      .finally(() => {
        this.running.delete(run.id);
        this.wake();
      });
  }

  /** Keeps this worker's runs alive; a run ended elsewhere (sweeper, cancel of a lost run) is stopped here. */
  private async beat(): Promise<void> {
    if (this.running.size === 0) return;
    const ids = [...this.running.keys()];
    try {
      const { rows } = await this.db.query<{ run_id: string; status: string }>(
        `UPDATE run_activity a SET heartbeat_at = now() FROM runs r WHERE r.id = a.run_id AND a.run_id = ANY($1::uuid[]) RETURNING a.run_id, r.status`,
        [ids],
      );
      for (const row of rows) if (row.status !== 'running') this.running.get(row.run_id)?.cancel('cancelled');
    } catch (error) {
      this.logger.warn({ err: String(error) }, 'worker: heartbeat failed');
    }
  }
}
