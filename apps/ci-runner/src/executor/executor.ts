import type { RunEndStatus, RunReason, Step } from '#contracts';

/** What an executor needs to run one run's steps. */
export interface ExecutionRequest {
  runId: string;
  steps: readonly Step[];
  /**
   * The whole environment of every step besides PATH and HOME, which the executor sets itself:
   * GANTRY_* variables, parameters and the job's env. Nothing of the ci-runner's own environment.
   */
  env: Readonly<Record<string, string>>;
  /** After this long the run is stopped and ends `timed_out`. */
  timeoutMs: number;
  /** Strings replaced by `***` wherever they appear in the log (the run's token). */
  secrets: readonly string[];
}

/** Where an execution's log goes: whole lines, in order, already masked and size-capped per line. */
export interface LogSink {
  line(text: string): void;
}

export interface Outcome {
  status: RunEndStatus;
  /** The failing (or last) step's exit code; null when it was killed or never started. */
  exitCode: number | null;
  reason: RunReason | null;
}

/** One run being executed. */
export interface Execution {
  /** Stops the run (idempotent); its outcome then settles as `cancelled` (or `shutdown`). */
  cancel(reason: 'cancelled' | 'shutdown'): void;
  /** Settles once every process of the run is gone; never rejects. */
  readonly outcome: Promise<Outcome>;
}

/**
 * Runs a run's steps somewhere. The worker (claim, token, started/ended events, log storage) does
 * not care where: the local executor runs them on this machine; another implementation (an
 * external CI system, say) plugs in behind the same interface.
 */
export interface Executor {
  start(request: ExecutionRequest, log: LogSink): Execution;
}
