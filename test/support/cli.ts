import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { waitFor } from '../../libs/platform/src/testing/wait-for';

/** The built CLI, run as a user runs it: `node dist/apps/cli/src/main.js` (the package's bin). */
export const CLI_MAIN = resolve('dist/apps/cli/src/main.js');

export interface CliResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/** A user of the CLI: their own config directory, and optionally GANTRY_URL / GANTRY_TOKEN. */
export class CliUser {
  readonly configHome = mkdtempSync(join(tmpdir(), 'gantry-cli-home-'));

  constructor(readonly baseEnv: Record<string, string> = {}) {}

  env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    // Nothing of the test runner's own GANTRY_* variables: the CLI reads only what a user sets.
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('GANTRY_')));
    return { ...inherited, XDG_CONFIG_HOME: this.configHome, ...this.baseEnv, ...extra };
  }

  /** Runs `gantry <args>` with piped stdin/stdout/stderr and waits for it. */
  run(args: string[], options: { input?: Buffer | string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<CliResult> {
    const child = spawn(process.execPath, [CLI_MAIN, ...args], { env: this.env(options.env), stdio: ['pipe', 'pipe', 'pipe'] });
    return collect(child, options.input, options.timeoutMs ?? 60000);
  }

  /** Starts `gantry <args>` and leaves it running (the runner agent). */
  start(args: string[], env: Record<string, string> = {}): RunningCli {
    const child = spawn(process.execPath, [CLI_MAIN, ...args], { env: this.env(env), stdio: ['ignore', 'pipe', 'pipe'] });
    return new RunningCli(child);
  }

  /**
   * Runs `gantry <args>` on a pseudo-terminal (util-linux `script`), answering prompts: each
   * `answers` entry waits until the output contains `when`, then types `send`. Output is the
   * terminal's (stdout and stderr together).
   */
  async tty(args: string[], answers: { when: string; send: string }[] = [], options: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<{ code: number | null; output: string }> {
    const command = [process.execPath, CLI_MAIN, ...args].map(shellQuote).join(' ');
    const child = spawn('script', ['-qec', command, '/dev/null'], { env: { ...this.env(options.env), TERM: 'xterm', COLUMNS: '120' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const exited = new Promise<number | null>((done) => child.on('close', (code) => done(code)));
    for (const answer of answers) {
      await waitFor(() => output.includes(answer.when), { timeoutMs: 15000, message: `no "${answer.when}" on the terminal; got: ${output}` });
      child.stdin!.write(answer.send);
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60000);
    const code = await exited;
    clearTimeout(timer);
    child.stdin!.destroy();
    return { code, output };
  }
}

export class RunningCli {
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;

  constructor(readonly child: ChildProcess) {
    child.stdout!.on('data', (chunk: Buffer) => (this.stdout += chunk.toString('utf8')));
    child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString('utf8')));
    this.exited = new Promise((done) => child.on('close', (code) => done(code)));
  }

  waitForOutput(text: string | RegExp, timeoutMs = 20000): Promise<true> {
    const found = () => (typeof text === 'string' ? this.stderr.includes(text) || this.stdout.includes(text) : text.test(this.stderr) || text.test(this.stdout));
    return waitFor(() => found(), { timeoutMs, message: `no ${String(text)} in the CLI's output: ${this.stderr}` });
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }
}

function collect(child: ChildProcess, input: Buffer | string | undefined, timeoutMs: number): Promise<CliResult> {
  const stdout: Buffer[] = [];
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  child.stdin!.on('error', () => undefined); // the CLI may exit before reading its input
  child.stdin!.end(input);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((done) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout: Buffer.concat(stdout), stderr });
    }),
  );
}

const shellQuote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

/** The lines a command wrote to stderr (the CLI's errors are exactly one). */
export const stderrLines = (result: CliResult) => result.stderr.split('\n').filter((line) => line.length > 0);
