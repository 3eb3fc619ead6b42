import { existsSync, readFileSync } from 'node:fs';
import type { Step } from '#contracts';
import type { ExecutionRequest, LogSink } from './executor';

/** A LogSink that keeps every line, for tests. */
export class CollectingSink implements LogSink {
  readonly lines: string[] = [];

  line(text: string): void {
    this.lines.push(text);
  }

  /** The step's own output: every line not written by the executor itself. */
  get output(): string[] {
    return this.lines.filter((line) => !line.startsWith('[gantry] '));
  }

  /** The executor's own lines, without the `[gantry] ` prefix. */
  get gantry(): string[] {
    return this.lines.filter((line) => line.startsWith('[gantry] ')).map((line) => line.slice('[gantry] '.length));
  }
}

let runs = 0;

/** A request running `steps` (scripts or whole steps) with no secrets, env or deadline to speak of. */
export function testRequest(steps: readonly (string | Step)[], extra: Partial<ExecutionRequest> = {}): ExecutionRequest {
  return {
    runId: `run${++runs}`,
    steps: steps.map((step) => (typeof step === 'string' ? { run: step } : step)),
    env: {},
    timeoutMs: 60_000,
    secrets: [],
    ...extra,
  };
}

/**
 * Whether `pid` is still running. A zombie is not: where PID 1 does not reap orphans (some
 * containers and VMs), a killed background process stays a zombie, and kill(pid, 0) still succeeds.
 */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
  if (!existsSync('/proc/self/stat')) return true; // no procfs: cannot tell a zombie
  try {
    // The state follows the command name, which is in parentheses and may itself contain them.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return false; // reaped between the two checks
  }
}
