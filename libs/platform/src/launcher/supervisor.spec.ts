import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../testing/wait-for';
import { startLoggedProcess, type ServiceProcess } from './services';
import { lastLines, ServiceSupervisor, type GiveUp, type SupervisorOptions } from './supervisor';

/**
 * The supervisor with real child processes: tiny node scripts started through the same
 * startLoggedProcess path as the services (log file appended to, exit status after the log is flushed).
 */
describe('ServiceSupervisor', () => {
  let dir: string;
  const supervisors: ServiceSupervisor[] = [];

  /** A node script: `crash` prints 30 numbered lines and exits 1; the others as named. */
  const scripts = {
    crash: `for (let i = 1; i <= 30; i++) console.log('run ' + process.env.RUN + ' line ' + i); process.exit(1);`,
    // Crashes on its first run only (a counter file), then stays up.
    crashOnce: `const fs = require('fs'); const f = process.argv[2];
      const n = fs.existsSync(f) ? Number(fs.readFileSync(f, 'utf8')) : 0; fs.writeFileSync(f, String(n + 1));
      if (n === 0) { console.error('boom'); process.exit(3); } console.log('up'); setInterval(() => {}, 1000);`,
    stayUp: `console.log('up'); setInterval(() => {}, 1000);`,
    // Up for a while, then crashes.
    crashLater: `setTimeout(() => process.exit(2), Number(process.argv[2]));`,
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'gantry-supervisor-'));
    for (const [name, source] of Object.entries(scripts)) writeFileSync(join(dir, `${name}.js`), source);
  });
  afterEach(async () => {
    await Promise.all(supervisors.splice(0).map((s) => s.stop(500)));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function supervise(script: keyof typeof scripts, options: Partial<SupervisorOptions> & { args?: string[] } = {}) {
    const messages: string[] = [];
    const started: ServiceProcess[] = [];
    let run = 0;
    const { args = [], ...rest } = options;
    const supervisor = new ServiceSupervisor({
      name: script,
      start: () => startLoggedProcess({ name: script, args: [join(dir, `${script}.js`), ...args], logDir: join(dir, 'logs'), env: { ...process.env, RUN: String(++run) } }),
      initialDelayMs: 20,
      maxDelayMs: 60,
      stableAfterMs: 60000,
      maxCrashes: 10,
      crashWindowMs: 60000,
      report: (message) => messages.push(message),
      onStart: (process) => started.push(process),
      ...rest,
    });
    supervisors.push(supervisor);
    const gaveUp = new Promise<GiveUp>((resolve) => supervisor.onGiveUp(resolve));
    supervisor.start();
    return { supervisor, messages, started, gaveUp };
  }

  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };

  it('restarts with exponential backoff, then gives up printing the last lines of the log', async () => {
    const { supervisor, messages, started, gaveUp } = supervise('crash', { maxCrashes: 5 });
    const info = await gaveUp;
    expect(messages.slice(0, 4)).toEqual([
      expect.stringMatching(/^crash exited with code 1 \(signal none\); restarting in 20 ms \(attempt 1\)/),
      expect.stringMatching(/^crash exited with code 1 \(signal none\); restarting in 40 ms \(attempt 2\)/),
      // Capped at maxDelayMs.
      expect.stringMatching(/restarting in 60 ms \(attempt 3\)/),
      expect.stringMatching(/restarting in 60 ms \(attempt 4\)/),
    ]);
    expect(started).toHaveLength(5);
    expect(supervisor.restarts).toBe(4);
    expect(supervisor.state).toBe('gave-up');
    expect(supervisor.pid).toBeUndefined();
    // The last 20 lines are the last run's lines 11..30 (every run appends to the same log).
    const expected = Array.from({ length: 20 }, (_, i) => `run 5 line ${i + 11}`);
    expect(info.tail).toEqual(expected);
    expect(info.crashes).toBe(5);
    const giveUp = messages.at(-1)!;
    expect(messages).toHaveLength(5);
    expect(giveUp).toMatch(/^crash exited with code 1 \(signal none\); giving up after 5 crashes within 60 s: crash stays down\./);
    expect(giveUp).toContain(`last 20 lines of ${join(dir, 'logs', 'crash.log')}:`);
    expect(giveUp).toContain(expected.map((line) => `  | ${line}`).join('\n'));
    expect(giveUp.split('\n').at(-1)).toBe('the rest of the stack keeps running; to start crash again, fix the cause and restart npm run dev');
    expect(readFileSync(join(dir, 'logs', 'crash.log'), 'utf8')).toContain('run 1 line 1\n');

    // revive(): starts it again with a fresh count (it crashes again, and gives up again).
    const again = new Promise<GiveUp>((resolve) => supervisor.onGiveUp(resolve));
    expect(supervisor.revive()).toBe(true);
    expect((await again).tail.at(-1)).toBe('run 10 line 30');
    expect(started).toHaveLength(10);
  });

  it('restarts a process that crashed once and keeps the new one', async () => {
    const { supervisor, messages, started } = supervise('crashOnce', { args: [join(dir, 'crash-once-counter')] });
    await waitFor(() => started.length === 2 && supervisor.state === 'running', { message: 'not restarted' });
    expect(messages).toEqual([expect.stringMatching(/^crashOnce exited with code 3 \(signal none\); restarting in 20 ms \(attempt 1\); log: /)]);
    expect(supervisor.pid).toBe(started[1].pid);
    expect(alive(started[1].pid)).toBe(true);
    expect(supervisor.revive()).toBe(false);
  });

  it('restarts a process killed by a signal (kill -9)', async () => {
    const { supervisor, messages, started } = supervise('stayUp');
    const first = started[0].pid;
    process.kill(first, 'SIGKILL');
    await waitFor(() => started.length === 2 && supervisor.state === 'running', { message: 'not restarted' });
    expect(messages).toEqual([expect.stringMatching(/^stayUp exited with code null \(signal SIGKILL\); restarting in 20 ms \(attempt 1\)/)]);
    expect(supervisor.pid).not.toBe(first);
    expect(alive(supervisor.pid!)).toBe(true);
  });

  it('starts the backoff over after a process stayed up for stableAfterMs', async () => {
    // Each run lives 300 ms, longer than stableAfterMs: every crash is a first attempt again.
    const { messages } = supervise('crashLater', { args: ['300'], stableAfterMs: 150 });
    await waitFor(() => messages.length >= 3, { timeoutMs: 15000, message: 'not three crashes' });
    for (const message of messages) expect(message).toMatch(/exited with code 2 \(signal none\); restarting in 20 ms \(attempt 1\)/);
  });

  it('gives up only at maxCrashes within crashWindowMs, however stable the runs were', async () => {
    const { messages, gaveUp } = supervise('crashLater', { args: ['200'], stableAfterMs: 100, maxCrashes: 3 });
    const info = await gaveUp;
    expect(info.crashes).toBe(3);
    expect(messages).toHaveLength(3);
    expect(messages[2]).toMatch(/giving up after 3 crashes within 60 s/);
  });

  it('does not restart after stop()', async () => {
    const { supervisor, messages, started } = supervise('stayUp');
    const pid = started[0].pid;
    await supervisor.stop();
    expect(alive(pid)).toBe(false);
    expect(supervisor.state).toBe('stopped');
    // Longer than the restart delay: nothing comes back.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(started).toHaveLength(1);
    expect(messages).toEqual([]);
  });

  it('does not restart after stop() during the backoff, nor after disarm() when the process exits', async () => {
    const crashing = supervise('crash', { initialDelayMs: 150 });
    await waitFor(() => crashing.supervisor.state === 'restarting', { message: 'did not crash' });
    await crashing.supervisor.stop();

    // disarm(): the launcher's Ctrl-C handler; the service exits by itself (the terminal's SIGINT).
    const disarmed = supervise('stayUp');
    disarmed.supervisor.disarm();
    process.kill(disarmed.started[0].pid, 'SIGTERM');
    await waitFor(() => disarmed.supervisor.state === 'stopped', { message: 'not stopped' });

    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(crashing.started).toHaveLength(1);
    expect(crashing.supervisor.state).toBe('stopped');
    expect(crashing.messages).toHaveLength(1);
    expect(disarmed.started).toHaveLength(1);
    expect(disarmed.messages).toEqual([]);
  });
});

describe('lastLines', () => {
  it('reads only the end of a large file and drops the cut line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gantry-lastlines-'));
    try {
      const file = join(dir, 'big.log');
      writeFileSync(file, Array.from({ length: 20000 }, (_, i) => `line ${i}`).join('\n') + '\n');
      expect(lastLines(file, 3)).toEqual(['line 19997', 'line 19998', 'line 19999']);
      expect(lastLines(file, 100000).length).toBeLessThan(20000);
      expect(lastLines(file, 100000)[0]).toMatch(/^line \d+$/);
      expect(lastLines(join(dir, 'missing.log'), 5)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
