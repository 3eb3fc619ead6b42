import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { waitFor } from '#platform/testing/wait-for';
import type { ExecutionRequest } from './executor';
import { LocalExecutor } from './local-executor';
import { CollectingSink, isRunning, testRequest } from './testing';

// The shell ignores SIGTERM, and so does its background child (ignored signals are inherited):
// only the SIGKILL after the grace period ends them.
const STUBBORN = `trap '' TERM; sleep 600 & echo $! > "$PIDS"; echo $$ >> "$PIDS"; wait`;

describe('LocalExecutor: stopping and process groups', () => {
  let tmpRoot: string;
  let scratch: string;
  let files = 0;

  beforeAll(() => {
    tmpRoot = mkdtempSync(`${tmpdir()}/gantry-executor-spec-`);
    scratch = mkdtempSync(`${tmpdir()}/gantry-executor-scratch-`);
  });
  afterAll(() => {
    rmSync(tmpRoot, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
  });

  const scratchFile = () => join(scratch, `file${++files}`);
  const start = (steps: string[], extra: Partial<ExecutionRequest> = {}) => {
    const log = new CollectingSink();
    const execution = new LocalExecutor({ killGraceMs: 300, tmpRoot }).start(testRequest(steps, extra), log);
    return { execution, log };
  };
  /** The pids a step wrote to `file`, once it has written `count` of them. */
  const pidsIn = (file: string, count: number) =>
    waitFor(
      () => {
        const pids = existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).map(Number) : [];
        return pids.length === count && pids;
      },
      { timeoutMs: 5000, message: `${count} pids in ${file}` },
    );

  it('times out: SIGTERM to the step, outcome timed_out', async () => {
    const { execution, log } = start(['sleep 30', 'echo never'], { timeoutMs: 1000 });
    await expect(execution.outcome).resolves.toEqual({ status: 'timed_out', exitCode: null, reason: 'timed_out' });
    expect(log.gantry).toEqual([
      'step 1/2: sleep 30',
      'timed out after 1000 ms',
      "stopping: sent SIGTERM to the step's processes",
      'step 1 was ended by signal SIGTERM',
    ]);
    expect(readdirSync(tmpRoot)).toEqual([]);
  });

  it('cancels a step that ignores SIGTERM: SIGKILL after the grace period, every process gone', async () => {
    const PIDS = scratchFile();
    const { execution, log } = start([STUBBORN, 'echo never'], { env: { PIDS } });
    const pids = await pidsIn(PIDS, 2);
    execution.cancel('cancelled');
    await expect(execution.outcome).resolves.toEqual({ status: 'cancelled', exitCode: null, reason: 'cancelled' });
    for (const pid of pids) expect(isRunning(pid)).toBe(false);
    expect(log.gantry).toEqual([
      `step 1/2: ${STUBBORN.slice(0, 80)}`,
      'run cancelled',
      "stopping: sent SIGTERM to the step's processes",
      'still running after 300 ms: sent SIGKILL',
      'step 1 was ended by signal SIGKILL',
    ]);
    expect(readdirSync(tmpRoot)).toEqual([]);
  });

  it('kills what a successful step left in the background before the next step', async () => {
    const [PIDS, READY, GO] = [scratchFile(), scratchFile(), scratchFile()];
    const { execution } = start(['sleep 600 & echo $! > "$PIDS"', 'touch "$READY"; while [ ! -e "$GO" ]; do sleep 0.02; done'], { env: { PIDS, READY, GO } });
    await waitFor(() => existsSync(READY), { timeoutMs: 5000, message: 'second step running' });
    const [background] = await pidsIn(PIDS, 1);
    expect(isRunning(background)).toBe(false);
    writeFileSync(GO, '');
    await expect(execution.outcome).resolves.toEqual({ status: 'succeeded', exitCode: 0, reason: null });
  });

  it('does not wait forever for a process that left the process group of its step', async () => {
    const PIDS = scratchFile();
    // The step waits for the pid: killed before its setsid(), the process would not escape.
    const escape = `setsid sh -c 'echo $$ > "$PIDS"; exec sleep 600' & while [ ! -s "$PIDS" ]; do sleep 0.01; done`;
    const { execution, log } = start([escape], { env: { PIDS } });
    const [escaped] = await pidsIn(PIDS, 1);
    try {
      await expect(execution.outcome).resolves.toEqual({ status: 'succeeded', exitCode: 0, reason: null });
      expect(log.gantry).toContain('output still open after the step ended: a process left its process group; closing it');
    } finally {
      process.kill(escaped, 'SIGKILL');
    }
  }, 15_000);

  it('ends failed/shutdown on cancel("shutdown")', async () => {
    const { execution } = start(['sleep 30']);
    await waitFor(() => readdirSync(tmpRoot).length === 1, { message: 'workspace created' });
    execution.cancel('shutdown');
    await expect(execution.outcome).resolves.toEqual({ status: 'failed', exitCode: null, reason: 'shutdown' });
  });

  it('takes the first stop only, and starts no step once stopping', async () => {
    const STARTED = scratchFile();
    const { execution, log } = start(['touch "$STARTED"; sleep 30', 'echo never'], { env: { STARTED } });
    await waitFor(() => existsSync(STARTED), { timeoutMs: 5000, message: 'step started' });
    execution.cancel('cancelled');
    execution.cancel('shutdown');
    execution.cancel('cancelled');
    await expect(execution.outcome).resolves.toEqual({ status: 'cancelled', exitCode: null, reason: 'cancelled' });
    expect(log.gantry.filter((line) => line.startsWith('stopping'))).toHaveLength(1);
    expect(log.gantry.some((line) => line.startsWith('step 2/2'))).toBe(false);
  });

  it('cancelled before its first step, runs none', async () => {
    const { execution, log } = start(['echo never']);
    execution.cancel('cancelled');
    await expect(execution.outcome).resolves.toEqual({ status: 'cancelled', exitCode: null, reason: 'cancelled' });
    expect(log.lines).toEqual(['[gantry] run cancelled']);
    expect(readdirSync(tmpRoot)).toEqual([]);
  });

  it('ignores a cancel after the end', async () => {
    const { execution, log } = start(['echo done']);
    const outcome = await execution.outcome;
    const lines = [...log.lines];
    execution.cancel('cancelled');
    expect(outcome).toEqual({ status: 'succeeded', exitCode: 0, reason: null });
    await expect(execution.outcome).resolves.toEqual(outcome);
    expect(log.lines).toEqual(lines);
  });
});
