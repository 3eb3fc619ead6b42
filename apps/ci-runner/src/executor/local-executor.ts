import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Step } from '#contracts';
import type { ExecutionRequest, Execution, Executor, LogSink, Outcome } from './executor';
import { redact } from './redactor';
import { StepProcess, type StepResult, type StepSpec } from './step-process';

/** The only PATH a step gets unless the job sets its own: nothing of the ci-runner's environment. */
export const STEP_PATH = '/usr/local/bin:/usr/bin:/bin';

/** setTimeout fires at once for delays past 2^31 - 1 ms (about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface LocalExecutorOptions {
  /** How long a stopped step gets between SIGTERM and SIGKILL. */
  killGraceMs: number;
  /** Log lines longer than this are cut (default 16384). */
  maxLineChars?: number;
  /** Where run workspaces are created (default: the OS temporary directory). */
  tmpRoot?: string;
}

type StopReason = 'cancelled' | 'shutdown' | 'timed_out';

const STOPPED: Record<StopReason, Outcome> = {
  cancelled: { status: 'cancelled', exitCode: null, reason: 'cancelled' },
  shutdown: { status: 'failed', exitCode: null, reason: 'shutdown' },
  timed_out: { status: 'timed_out', exitCode: null, reason: 'timed_out' },
};

const STOP_MESSAGES: Record<StopReason, (timeoutMs: number) => string> = {
  cancelled: () => 'run cancelled',
  shutdown: () => 'the ci-runner is shutting down',
  timed_out: (timeoutMs) => `timed out after ${timeoutMs} ms`,
};

const EXECUTOR_ERROR: Outcome = { status: 'failed', exitCode: null, reason: 'executor_error' };

/**
 * Runs a run's steps on this machine, one `/bin/sh -c` per step, in order, in a fresh temporary
 * workspace that is removed afterwards. Each step gets its own process group, so stopping it (and
 * cleaning up after it) reaches its background children too.
 */
export class LocalExecutor implements Executor {
  constructor(private readonly options: LocalExecutorOptions) {}

  /** Starts the run at once; see {@link Execution}. The sink must not throw. */
  start(request: ExecutionRequest, log: LogSink): Execution {
    return new LocalRun(request, log, this.options);
  }
}

/** One run: its steps one after the other, a deadline, and cancellation. */
class LocalRun implements Execution {
  readonly outcome: Promise<Outcome>;
  private stopReason: StopReason | null = null;
  private current: StepProcess | null = null;
  /** The steps are over: cancelling now changes nothing. */
  private finished = false;

  constructor(
    private readonly request: ExecutionRequest,
    private readonly log: LogSink,
    private readonly options: LocalExecutorOptions,
  ) {
    this.outcome = this.execute().catch((error: unknown) => {
      this.say(`executor error: ${this.mask(messageOf(error))}`);
      return { ...EXECUTOR_ERROR };
    });
  }

  cancel(reason: 'cancelled' | 'shutdown'): void {
    this.stop(reason);
  }

  private stop(reason: StopReason): void {
    if (this.finished || this.stopReason !== null) return;
    this.stopReason = reason;
    this.say(STOP_MESSAGES[reason](this.request.timeoutMs));
    this.current?.stop(this.options.killGraceMs);
  }

  private async execute(): Promise<Outcome> {
    const timer = setTimeout(() => this.stop('timed_out'), Math.min(this.request.timeoutMs, MAX_TIMER_MS));
    try {
      const safeRunId = this.request.runId.replace(/[^A-Za-z0-9_-]/g, '_');
      const workspace = await mkdtemp(join(this.options.tmpRoot ?? tmpdir(), `gantry-run-${safeRunId}-`));
      try {
        return await this.runSteps(workspace);
      } finally {
        this.finished = true;
        await this.removeWorkspace(workspace);
      }
    } finally {
      this.finished = true;
      clearTimeout(timer);
    }
  }

  /** The steps in order, until one fails or the run is stopped. */
  private async runSteps(workspace: string): Promise<Outcome> {
    const { steps, secrets } = this.request;
    const env = { PATH: STEP_PATH, HOME: workspace, ...this.request.env };
    for (const [index, step] of steps.entries()) {
      if (this.stopReason !== null) break;
      this.say(`step ${index + 1}/${steps.length}: ${this.mask(label(step))}`);
      const result = await this.runStep({ script: step.run, cwd: workspace, env, secrets, maxLineChars: this.options.maxLineChars });
      if (result.kind === 'spawn_failed') {
        this.say(`step ${index + 1} could not be started: ${this.mask(result.message)}`);
        return { ...EXECUTOR_ERROR };
      }
      this.say(result.code !== null ? `step ${index + 1} exited with code ${result.code}` : `step ${index + 1} was ended by signal ${result.signal}`);
      if (this.stopReason !== null) break;
      if (result.code !== 0) return { status: 'failed', exitCode: result.code, reason: 'step_failed' };
    }
    return this.stopReason !== null ? { ...STOPPED[this.stopReason] } : { status: 'succeeded', exitCode: 0, reason: null };
  }

  /** One step, from spawn until its processes and pipes are gone; `current` meanwhile, for stop(). */
  private async runStep(spec: StepSpec): Promise<StepResult> {
    try {
      this.current = new StepProcess(spec, this.log);
    } catch (error) {
      // spawn() throws synchronously on invalid options, e.g. an env value with a NUL byte.
      return { kind: 'spawn_failed', message: messageOf(error) };
    }
    try {
      return await this.current.done;
    } finally {
      this.current = null;
    }
  }

  /** A failure here must not change the run's outcome: say so and leave the directory. */
  private async removeWorkspace(workspace: string): Promise<void> {
    try {
      await rm(workspace, { recursive: true, force: true });
    } catch (error) {
      this.say(`could not remove the workspace ${workspace}: ${messageOf(error)}`);
    }
  }

  private mask(text: string): string {
    return redact(text, this.request.secrets);
  }

  private say(text: string): void {
    this.log.line(`[gantry] ${text}`);
  }
}

/** What the log calls a step: its name, or the first line of its script; at most 80 characters. */
function label(step: Step): string {
  const text = step.name ?? step.run.split('\n', 1)[0];
  return text.length > 80 ? text.slice(0, 80) : text;
}

/** An error's message; `instanceof Error` is not enough, errors may come from another realm. */
function messageOf(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(error);
}
