import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { ExitStatus, ServiceProcess } from './services';

/**
 * Keeps one service process running, like compose's `restart: unless-stopped`: an unexpected exit
 * is announced and followed by a restart after a backoff (initialDelayMs doubling up to
 * maxDelayMs; the backoff starts over once a process has stayed up stableAfterMs). After
 * maxCrashes crashes within crashWindowMs it gives up: it prints the last lines of the log file
 * and how to start it again, and leaves everything else alone. stop() is a deliberate stop: no
 * restart follows it.
 */
export interface SupervisorOptions {
  /** Starts the process (again): startService(...) in the launcher, any ServiceProcess in a test. */
  start: () => ServiceProcess;
  /** Used in messages; default: the started process's name. */
  name?: string;
  /** First restart delay (default 250 ms); doubles with every crash in a row. */
  initialDelayMs?: number;
  /** Cap of the restart delay (default 8 s). */
  maxDelayMs?: number;
  /** A process up this long counts as healthy: the next crash starts the backoff over (default 30 s). */
  stableAfterMs?: number;
  /** Give up at this many crashes within crashWindowMs (default 5 in 2 minutes). */
  maxCrashes?: number;
  crashWindowMs?: number;
  /** How many lines of the log file to print on giving up (default 20). */
  tailLines?: number;
  /** Where messages go (default console.error). */
  report?: (message: string) => void;
  /** Called with every process started (the first and each restart), e.g. to record its PID. */
  onStart?: (process: ServiceProcess, supervisor: ServiceSupervisor) => void;
  /** Called whenever the state changes (after onStart for 'running'). */
  onStateChange?: (state: SupervisorState, supervisor: ServiceSupervisor) => void;
  /**
   * The last line printed on giving up: what happens now and how to start the service again
   * (default: the rest keeps running; restart `npm run dev`).
   */
  giveUpHint?: (name: string) => string;
}

export type SupervisorState = 'idle' | 'running' | 'restarting' | 'gave-up' | 'stopped';

export interface GiveUp {
  name: string;
  crashes: number;
  last: ExitStatus;
  logFile: string;
  tail: string[];
}

export class ServiceSupervisor {
  private readonly options: Required<Omit<SupervisorOptions, 'name' | 'onStart' | 'onStateChange'>> &
    Pick<SupervisorOptions, 'onStart' | 'onStateChange'>;
  private process?: ServiceProcess;
  private timer?: NodeJS.Timeout;
  private crashTimes: number[] = [];
  /** Crashes in a row without a stable run: sets the backoff. */
  private attempt = 0;
  private restartCount = 0;
  /** False after disarm()/stop(): exits are expected from then on. */
  private armed = true;
  private currentState: SupervisorState = 'idle';
  private label?: string;
  private giveUpListeners: ((info: GiveUp) => void)[] = [];

  constructor(options: SupervisorOptions) {
    this.label = options.name;
    this.options = {
      initialDelayMs: 250,
      maxDelayMs: 8000,
      stableAfterMs: 30000,
      maxCrashes: 5,
      crashWindowMs: 120000,
      tailLines: 20,
      report: (message) => console.error(message),
      giveUpHint: (name) => `the rest of the stack keeps running; to start ${name} again, fix the cause and restart npm run dev`,
      ...stripUndefined(options),
      start: options.start,
    };
  }

  get name(): string {
    return this.label ?? this.process?.name ?? 'service';
  }

  get state(): SupervisorState {
    return this.currentState;
  }

  /** The process running now (or the last one, after an exit). */
  get current(): ServiceProcess | undefined {
    return this.process;
  }

  /** PID of the running process; undefined while it is down. */
  get pid(): number | undefined {
    return this.currentState === 'running' ? this.process?.pid : undefined;
  }

  /** Restarts after crashes so far (not counting the first start). */
  get restarts(): number {
    return this.restartCount;
  }

  /** Starts the first process. */
  start(): ServiceProcess {
    if (this.currentState !== 'idle') throw new Error(`${this.name} is already supervised (${this.currentState})`);
    return this.launch();
  }

  /** Called once for every give-up. */
  onGiveUp(listener: (info: GiveUp) => void): void {
    this.giveUpListeners.push(listener);
  }

  /**
   * No restarts from now on, without stopping the process: for a launcher that stops its services
   * in order, so a service that exits before its turn (a terminal Ctrl-C reaches it too) stays down.
   */
  disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.currentState === 'restarting' || this.currentState === 'idle' || this.currentState === 'gave-up') this.setState('stopped');
    this.armed = false;
  }

  /** A deliberate stop: no restart follows. Resolves once the process has exited. */
  async stop(graceMs?: number): Promise<void> {
    this.disarm();
    const process = this.process;
    if (process) await process.stop(graceMs);
    this.setState('stopped');
  }

  /** Starts a service that gave up again, with the crash count and backoff reset. False if it had not given up. */
  revive(): boolean {
    if (this.currentState !== 'gave-up') return false;
    this.crashTimes = [];
    this.attempt = 0;
    this.report(`${this.name}: starting again`);
    this.launch();
    return true;
  }

  private launch(): ServiceProcess {
    const process = this.options.start();
    this.process = process;
    const startedAt = Date.now();
    this.options.onStart?.(process, this);
    this.setState('running');
    void process.status.then((status) => this.exited(process, status, Date.now() - startedAt));
    return process;
  }

  private exited(process: ServiceProcess, status: ExitStatus, upMs: number): void {
    if (process !== this.process) return;
    if (!this.armed || this.currentState === 'stopped') {
      this.setState('stopped');
      return;
    }
    const now = Date.now();
    if (upMs >= this.options.stableAfterMs) this.attempt = 0;
    this.crashTimes = [...this.crashTimes.filter((t) => now - t < this.options.crashWindowMs), now];
    const exit = `${this.name} exited with code ${status.code} (signal ${status.signal ?? 'none'})`;
    if (this.crashTimes.length >= this.options.maxCrashes) {
      const tail = lastLines(process.logFile, this.options.tailLines);
      const seconds = Math.round(this.options.crashWindowMs / 1000);
      this.report(
        [
          `${exit}; giving up after ${this.crashTimes.length} crashes within ${seconds} s: ${this.name} stays down.`,
          ...(tail.length > 0 ? [`last ${tail.length} lines of ${process.logFile}:`, ...tail.map((line) => `  | ${line}`)] : [`${process.logFile} has nothing to show`]),
          this.options.giveUpHint(this.name),
        ].join('\n'),
      );
      this.setState('gave-up');
      const info: GiveUp = { name: this.name, crashes: this.crashTimes.length, last: status, logFile: process.logFile, tail };
      for (const listener of this.giveUpListeners) listener(info);
      return;
    }
    this.attempt += 1;
    const delay = Math.min(this.options.initialDelayMs * 2 ** (this.attempt - 1), this.options.maxDelayMs);
    this.report(`${exit}; restarting in ${delay} ms (attempt ${this.attempt}); log: ${process.logFile}`);
    this.setState('restarting');
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.armed) return;
      this.restartCount += 1;
      try {
        this.launch();
      } catch (error) {
        // Could not even spawn: count it as a crash of a process that never ran.
        this.report(`${this.name} could not be started: ${error instanceof Error ? error.message : String(error)}`);
        this.exited(process, { code: null, signal: null }, 0);
      }
    }, delay);
  }

  private setState(state: SupervisorState): void {
    if (this.currentState === state) return;
    this.currentState = state;
    this.options.onStateChange?.(state, this);
  }

  private report(message: string): void {
    this.options.report(message);
  }
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The last `count` lines of a file, reading at most its last 64 KiB. */
export function lastLines(file: string, count: number): string[] {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const size = fstatSync(fd).size;
    const length = Math.min(size, 64 * 1024);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    const lines = buffer.toString('utf8').split('\n');
    if (lines.at(-1) === '') lines.pop();
    // A cut first line is dropped unless the file was read from its start.
    if (length < size) lines.shift();
    return lines.slice(-count);
  } catch {
    return [];
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
