import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { Step } from '#contracts';
import type { ExecutionRequest } from './executor';
import { LocalExecutor, STEP_PATH, type LocalExecutorOptions } from './local-executor';
import { CollectingSink, testRequest } from './testing';

describe('LocalExecutor: steps, log and environment', () => {
  let tmpRoot: string;

  beforeAll(() => {
    tmpRoot = mkdtempSync(`${tmpdir()}/gantry-executor-spec-`);
  });
  afterAll(() => rmSync(tmpRoot, { recursive: true, force: true }));
  beforeEach(() => expect(readdirSync(tmpRoot)).toEqual([]));

  /** Runs the steps to the end; the workspace must be gone by then. */
  async function run(steps: (string | Step)[], extra: Partial<ExecutionRequest> = {}, options: Partial<LocalExecutorOptions> = {}) {
    const log = new CollectingSink();
    const outcome = await new LocalExecutor({ killGraceMs: 300, tmpRoot, ...options }).start(testRequest(steps, extra), log).outcome;
    expect(readdirSync(tmpRoot)).toEqual([]);
    return { outcome, log };
  }

  it('sends stdout and stderr lines to the sink, between the step lines', async () => {
    const { outcome, log } = await run(['echo out; echo err >&2; printf "no newline"']);
    expect(outcome).toEqual({ status: 'succeeded', exitCode: 0, reason: null });
    expect(log.lines[0]).toBe('[gantry] step 1/1: echo out; echo err >&2; printf "no newline"');
    expect(log.output.sort()).toEqual(['err', 'no newline', 'out']);
    expect(log.lines.at(-1)).toBe('[gantry] step 1 exited with code 0');
  });

  it('names a step by its name, or the first line of its script cut to 80 characters', async () => {
    const long = `echo ${'x'.repeat(100)}`;
    const { log } = await run([{ name: 'build', run: 'true' }, `${long}\necho second line`]);
    expect(log.gantry.filter((line) => line.includes('/2: '))).toEqual(['step 1/2: build', `step 2/2: ${long.slice(0, 80)}`]);
  });

  it('gives a step exactly the request env plus PATH and HOME, nothing of the ci-runner', async () => {
    process.env.GANTRY_TEST_LEAK = 'x';
    try {
      const { log } = await run(['pwd', 'env'], { env: { GANTRY_RUN_ID: 'r1', FOO: 'bar baz' } });
      const [workspace, ...envLines] = log.output;
      // dash exports PWD itself; everything else must come from the executor.
      const env = Object.fromEntries(envLines.map((line) => line.split(/=(.*)/s, 2)).filter(([name]) => name !== 'PWD'));
      expect(env).toEqual({ PATH: STEP_PATH, HOME: workspace, GANTRY_RUN_ID: 'r1', FOO: 'bar baz' });
    } finally {
      delete process.env.GANTRY_TEST_LEAK;
    }
  });

  it('runs the steps in one fresh workspace under tmpRoot, removed afterwards', async () => {
    const { outcome, log } = await run(['pwd; echo kept > file', 'cat file; ls -A'], { runId: 'r-42' });
    expect(outcome.status).toBe('succeeded');
    const [workspace, ...rest] = log.output;
    expect(workspace.startsWith(`${tmpRoot}/`)).toBe(true);
    expect(basename(workspace)).toMatch(/^gantry-run-r-42-/);
    expect(rest).toEqual(['kept', 'file']);
  });

  it('masks a secret written in two pieces, and in the step line', async () => {
    const secrets = ['gtc_abcd'];
    const { log } = await run([{ name: 'print', run: "printf 'gtc_ab'; sleep 0.2; printf 'cd\\n'" }, 'echo gtc_abcd >&2'], { secrets });
    expect(log.output).toEqual(['***', '***']);
    expect(log.gantry).toContain('step 2/2: echo *** >&2');
    expect(log.lines.join('\n')).not.toContain('gtc_abcd');
  });

  it('stops at the first failing step, with its exit code', async () => {
    const { outcome, log } = await run(['echo one', 'echo two; exit 3', 'echo three']);
    expect(outcome).toEqual({ status: 'failed', exitCode: 3, reason: 'step_failed' });
    expect(log.output).toEqual(['one', 'two']);
    expect(log.gantry.at(-1)).toBe('step 2 exited with code 3');
    expect(log.gantry.some((line) => line.startsWith('step 3/3'))).toBe(false);
  });

  it('fails a step ended by a signal, with no exit code', async () => {
    const { outcome, log } = await run(['kill -KILL $$', 'echo never']);
    expect(outcome).toEqual({ status: 'failed', exitCode: null, reason: 'step_failed' });
    expect(log.gantry.at(-1)).toBe('step 1 was ended by signal SIGKILL');
    expect(log.output).toEqual([]);
  });

  it('ends executor_error, saying why, when a step cannot be started', async () => {
    // The first step removes the workspace: the second cannot be spawned in it.
    const { outcome, log } = await run(['rm -rf "$PWD"', 'echo never']);
    expect(outcome).toEqual({ status: 'failed', exitCode: null, reason: 'executor_error' });
    expect(log.gantry.at(-1)).toMatch(/^step 2 could not be started: .*ENOENT/);
    expect(log.output).toEqual([]);
  });

  it('ends executor_error when spawn refuses the options', async () => {
    const { outcome, log } = await run(['echo never'], { env: { BAD: 'nul\u0000byte gtc_abcd' }, secrets: ['gtc_abcd'] });
    expect(outcome).toEqual({ status: 'failed', exitCode: null, reason: 'executor_error' });
    expect(log.gantry.at(-1)).toMatch(/^step 1 could not be started: /);
    expect(log.lines.join('\n')).not.toContain('gtc_abcd');
  });

  it('ends executor_error when the workspace cannot be created', async () => {
    const { outcome, log } = await run(['echo never'], {}, { tmpRoot: `${tmpRoot}/missing` });
    expect(outcome).toEqual({ status: 'failed', exitCode: null, reason: 'executor_error' });
    expect(log.lines).toEqual([expect.stringMatching(/^\[gantry\] executor error: ENOENT.*mkdtemp/)]);
  });

  it('turns invalid UTF-8 and NUL bytes into U+FFFD', async () => {
    const { log } = await run(["printf 'a\\377b\\000c\\n'"]);
    expect(log.output).toEqual(['a\uFFFDb\uFFFDc']);
  });

  it('cuts a very long line', async () => {
    const { log } = await run(["head -c 40000 /dev/zero | tr '\\000' x; echo", 'head -c 10 /dev/zero | tr "\\000" y'], {}, { maxLineChars: 4 });
    const lengths = log.output.slice(0, -3).map((line) => line.length);
    expect(new Set(lengths)).toEqual(new Set([4]));
    expect(lengths).toHaveLength(10000);
    expect(log.output.slice(-3)).toEqual(['yyyy', 'yyyy', 'yy']);
  });

  it('cuts at 16384 characters by default', async () => {
    const { log } = await run(["head -c 40000 /dev/zero | tr '\\000' x"]);
    expect(log.output.map((line) => line.length)).toEqual([16384, 16384, 7232]);
  });
});
