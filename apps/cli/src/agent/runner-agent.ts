import { ClaimedRunSchema, RunnerHeartbeatSchema, type ClaimedRun } from '#contracts';
import type { Execution, Outcome } from '../../../ci-runner/src/executor/executor';
import { LocalExecutor } from '../../../ci-runner/src/executor/local-executor';
import { runEnvironment } from '../../../ci-runner/src/worker/run-environment';
import type { GantryClient } from '../client';
import { CliError, EXIT, messageOf } from '../errors';
import { backoffMs, Sleeper } from './backoff';
import { LogShipper, type RunControl } from './log-shipper';

export interface AgentOptions {
  /** Narrows the runner's labels for claims (default: all of them). */
  labels?: string[];
  /** On SIGTERM: how long the current run may go on before it is stopped. */
  stopGraceMs: number;
  /** Between SIGTERM and SIGKILL of a step's process group. */
  killGraceMs: number;
  heartbeatMs: number;
  /** Where the agent says what it does (stderr). */
  say: (text: string) => void;
}

interface Current {
  run: ClaimedRun;
  execution: Execution;
  cancelled: boolean;
}

/**
 * The remote runner: claims runs through the runner API (long poll), executes them with the
 * ci-runner's own LocalExecutor (clean environment, process groups, SIGTERM → grace → SIGKILL,
 * masking), ships the log in order, heart-beats, and finishes them. One run at a time. Survives an
 * unreachable gateway by retrying with backoff.
 */
export class RunnerAgent {
  private stopping = false;
  private claimAbort: AbortController | null = null;
  private current: Current | null = null;
  private stopTimer: NodeJS.Timeout | null = null;
  private readonly sleeper = new Sleeper();
  private readonly executor: LocalExecutor;

  constructor(
    private readonly client: GantryClient,
    private readonly options: AgentOptions,
  ) {
    this.executor = new LocalExecutor({ killGraceMs: options.killGraceMs });
  }

  /** Resolves once stopped (after `stop()`); rejects when the runner token is refused. */
  async run(): Promise<void> {
    const heartbeat = setInterval(() => void this.heartbeat(), this.options.heartbeatMs);
    let failures = 0;
    try {
      while (!this.stopping) {
        try {
          const claimed = await this.claim();
          if (failures > 0) this.options.say('the gateway answers again');
          failures = 0;
          if (claimed) await this.execute(claimed);
        } catch (error) {
          if (this.stopping) break;
          if (error instanceof CliError && error.exitCode === EXIT.auth) throw new CliError(`the runner token was refused (revoked?): ${error.message}`, EXIT.auth);
          if (failures++ === 0) this.options.say(`cannot claim runs, retrying with backoff: ${messageOf(error)}`);
          await this.sleeper.sleep(backoffMs(failures));
        }
      }
    } finally {
      clearInterval(heartbeat);
      if (this.stopTimer) clearTimeout(this.stopTimer);
    }
  }

  /**
   * First call: take no new run, let the current one finish within `stopGraceMs`, then stop it.
   * Second call: stop the current run now.
   */
  stop(): void {
    if (this.stopping) {
      this.current?.execution.cancel('shutdown');
      return;
    }
    this.stopping = true;
    this.claimAbort?.abort();
    this.sleeper.wake();
    if (this.current) {
      this.options.say(`stopping: run ${this.current.run.id} may finish within ${this.options.stopGraceMs} ms`);
      this.stopTimer = setTimeout(() => {
        this.options.say(`grace period over: stopping run ${this.current?.run.id}`);
        this.current?.execution.cancel('shutdown');
      }, this.options.stopGraceMs);
    }
  }

  private async claim(): Promise<ClaimedRun | null> {
    this.claimAbort = new AbortController();
    try {
      const body = this.options.labels && this.options.labels.length > 0 ? { labels: this.options.labels } : {};
      const answer = await this.client.json('POST', '/api/v1/runner/runs/claim', undefined, { body, signal: this.claimAbort.signal });
      return answer === undefined ? null : ClaimedRunSchema.parse(answer);
    } catch (error) {
      if (this.stopping && (error as { name?: string }).name === 'AbortError') return null;
      throw error;
    } finally {
      this.claimAbort = null;
    }
  }

  private async execute(run: ClaimedRun): Promise<void> {
    this.options.say(`claimed run ${run.id} (${run.repo} ${run.job} #${run.number})`);
    const env = runEnvironment(run, { env: run.env }, run.token, this.client.url);
    const shipper = new LogShipper(this.client, run.id, (control) => this.onControl(run.id, control), this.options.say);
    const execution = this.executor.start(
      { runId: run.id, steps: run.steps, env, timeoutMs: run.timeoutSeconds * 1000, secrets: [run.token] },
      { line: (text) => shipper.push(text) },
    );
    this.current = { run, execution, cancelled: false };
    let outcome: Outcome;
    try {
      outcome = await execution.outcome;
      await shipper.close();
    } finally {
      this.current = null;
      if (this.stopTimer) clearTimeout(this.stopTimer);
    }
    await this.finish(run, outcome);
  }

  private onControl(runId: string, control: RunControl): void {
    const current = this.current;
    if (!current || current.run.id !== runId || current.cancelled) return;
    const over = control.status !== 'queued' && control.status !== 'running';
    if (control.cancelRequested || over) {
      current.cancelled = true;
      this.options.say(`run ${runId} was cancelled`);
      current.execution.cancel('cancelled');
    }
  }

  /** Reports the outcome, retrying while the gateway cannot be reached (a finished run is kept as it is). */
  private async finish(run: ClaimedRun, outcome: Outcome): Promise<void> {
    const body = { status: outcome.status, exitCode: outcome.exitCode };
    for (let attempt = 1; ; attempt++) {
      try {
        await this.client.json('POST', `/api/v1/runner/runs/${run.id}/finish`, undefined, { body });
        this.options.say(`run ${run.id} ${outcome.status}${outcome.exitCode !== null ? ` (exit code ${outcome.exitCode})` : ''}`);
        return;
      } catch (error) {
        if (error instanceof CliError && error.exitCode !== EXIT.error) {
          this.options.say(`finishing run ${run.id} refused: ${error.message}`);
          return;
        }
        if (/run_finished/.test(messageOf(error))) return;
        if (attempt >= 60) {
          this.options.say(`giving up finishing run ${run.id}: ${messageOf(error)}`);
          return;
        }
        if (attempt === 1) this.options.say(`cannot finish run ${run.id} yet, retrying: ${messageOf(error)}`);
        await new Promise((resolve) => setTimeout(resolve, backoffMs(attempt, 5000)));
      }
    }
  }

  private async heartbeat(): Promise<void> {
    try {
      const answer = await this.client.json('POST', '/api/v1/runner/heartbeat', RunnerHeartbeatSchema);
      for (const control of answer.runs) this.onControl(control.id, control);
    } catch {
      // The claim loop and the log shipper report an unreachable gateway; a missed beat is harmless.
    }
  }
}
