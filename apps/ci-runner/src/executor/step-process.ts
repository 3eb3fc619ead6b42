import { spawn, type ChildProcess } from 'node:child_process';
import type { LogSink } from './executor';
import { LineSplitter } from './line-splitter';

/**
 * How long the pipes may stay open once the step's process group has been killed. Only a process
 * that left the group (setsid, a daemon) can still hold them; then they are closed on our side so
 * that the run does not wait for it forever.
 */
const PIPE_CLOSE_GRACE_MS = 2000;

export interface StepSpec {
  /** A `/bin/sh -c` script. */
  script: string;
  cwd: string;
  /** The step's whole environment. */
  env: Record<string, string>;
  secrets: readonly string[];
  maxLineChars?: number;
}

/** How a step ended: its shell exited (with a code, or killed by a signal), or it never started. */
export type StepResult =
  | { kind: 'exited'; code: number | null; signal: NodeJS.Signals | null }
  | { kind: 'spawn_failed'; message: string };

/**
 * One step: a shell in its own process group (`detached: true`), its stdout and stderr as masked
 * lines. When the shell exits, whatever is left of its group is SIGKILLed, so background children
 * never outlive the step; `done` resolves once that is done and both pipes are closed.
 */
export class StepProcess {
  /** Settles once the shell has exited, its group is killed and both pipes are closed; never rejects. */
  readonly done: Promise<StepResult>;
  private readonly child: ChildProcess;
  private exited = false;
  private stopping = false;

  constructor(spec: StepSpec, private readonly log: LogSink) {
    this.child = spawn('/bin/sh', ['-c', spec.script], {
      cwd: spec.cwd,
      env: spec.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.done = new Promise((resolve) => this.watch(spec, resolve));
  }

  /**
   * SIGTERM to the whole group; if the shell has not exited `graceMs` later, SIGKILL to the group.
   * Idempotent; does nothing once the shell has exited (its group is being killed anyway).
   */
  stop(graceMs: number): void {
    const pid = this.child.pid;
    if (this.stopping || this.exited || pid === undefined) return;
    this.stopping = true;
    this.signalGroup(pid, 'SIGTERM');
    this.log.line("[gantry] stopping: sent SIGTERM to the step's processes");
    const timer = setTimeout(() => {
      if (this.exited) return;
      this.signalGroup(pid, 'SIGKILL');
      this.log.line(`[gantry] still running after ${graceMs} ms: sent SIGKILL`);
    }, graceMs);
    this.child.once('exit', () => clearTimeout(timer));
  }

  private watch(spec: StepSpec, resolve: (result: StepResult) => void): void {
    const options = { secrets: spec.secrets, maxLineChars: spec.maxLineChars };
    const stdout = new LineSplitter((line) => this.log.line(line), options);
    const stderr = new LineSplitter((line) => this.log.line(line), options);
    this.child.stdout?.on('data', (chunk: Buffer) => stdout.write(chunk));
    this.child.stderr?.on('data', (chunk: Buffer) => stderr.write(chunk));
    let spawnError: string | null = null;
    // With no pid the spawn itself failed; 'close' follows. Other 'error's concern kill(), unused.
    this.child.on('error', (error) => {
      if (this.child.pid === undefined) spawnError = error.message;
    });
    this.child.once('exit', () => this.onExit());
    this.child.once('close', (code: number | null, signal: NodeJS.Signals | null) => {
      stdout.end();
      stderr.end();
      resolve(spawnError !== null ? { kind: 'spawn_failed', message: spawnError } : { kind: 'exited', code, signal });
    });
  }

  /** The shell is gone: kill what it left behind, which also closes the pipes they hold. */
  private onExit(): void {
    this.exited = true;
    const pid = this.child.pid;
    if (pid !== undefined) this.signalGroup(pid, 'SIGKILL');
    const timer = setTimeout(() => {
      this.log.line('[gantry] output still open after the step ended: a process left its process group; closing it');
      this.child.stdout?.destroy();
      this.child.stderr?.destroy();
    }, PIPE_CLOSE_GRACE_MS);
    this.child.once('close', () => clearTimeout(timer));
  }

  /** Signals the step's process group; ESRCH just means it is already gone. */
  private signalGroup(pid: number, signal: NodeJS.Signals): void {
    try {
      process.kill(-pid, signal);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ESRCH') return;
      this.log.line(`[gantry] could not send ${signal} to the step's processes: ${String(error)}`);
    }
  }
}
