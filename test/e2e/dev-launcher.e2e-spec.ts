import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../libs/platform/src/infra/free-port';
import { readStackFile, stackFilePath, waitForHttp, type StackFile } from '../../libs/platform/src/launcher';
import { waitFor } from '../../libs/platform/src/testing/wait-for';

/**
 * `npm run dev` itself (dist/scripts/dev.js, in its own data dir and port): it writes stack.json
 * (0600) a tool can use to reach NATS, a `kill -9` of a service is followed by a restart (said on
 * its output, PID updated in stack.json) and /readyz answers 200 again, and SIGTERM stops
 * everything and removes stack.json.
 */
describe('npm run dev', () => {
  let dataDir: string;
  let launcher: ChildProcess;
  let output = '';
  let exited: Promise<number | null>;
  let stack: StackFile;
  const password = 'dev-launcher-admin-password';

  const alive = (pid: number | null) => {
    if (!pid) return false;
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'gantry-dev-'));
    const port = await freePort();
    launcher = spawn(process.execPath, [join(process.cwd(), 'dist', 'scripts', 'dev.js')], {
      cwd: process.cwd(),
      env: { ...process.env, GANTRY_DATA_DIR: dataDir, GANTRY_PORT: String(port), GANTRY_ADMIN_PASSWORD: password, GANTRY_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    launcher.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    launcher.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    exited = new Promise((resolve) => launcher.once('exit', (code) => resolve(code)));
    stack = await waitFor(() => readStackFile(dataDir), { timeoutMs: 80000, intervalMs: 100, message: 'no stack.json' }).catch((error: Error) => {
      throw new Error(`${error.message}; launcher output:\n${output}`);
    });
  });

  afterAll(async () => {
    if (launcher && launcher.exitCode === null && launcher.signalCode === null) {
      launcher.kill('SIGTERM');
      const timer = setTimeout(() => launcher.kill('SIGKILL'), 30000);
      await exited;
      clearTimeout(timer);
    }
    // Whatever a failed test left running (the infrastructure runs in its own process group).
    for (const pid of [stack?.nats.pid, stack?.postgres.pid, ...Object.values(stack?.services ?? {}).map((s) => s.pid)]) {
      if (alive(pid ?? null)) process.kill(pid!, 'SIGKILL');
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('writes stack.json (0600) with the gateway, the NATS admin user, PostgreSQL, S3 and live PIDs', async () => {
    expect(statSync(stackFilePath(dataDir)).mode & 0o777).toBe(0o600);
    expect(output).toContain('Gantry is up');
    expect(stack.launcher.pid).toBe(launcher.pid);
    for (const service of ['identity', 'assets', 'ci-runner', 'gateway'] as const) {
      expect(stack.services[service]).toMatchObject({ state: 'running', restarts: 0 });
      expect(alive(stack.services[service].pid)).toBe(true);
    }
    expect(alive(stack.nats.pid)).toBe(true);
    expect(alive(stack.postgres.pid)).toBe(true);
    expect((await fetch(`${stack.gateway.listenUrl}/readyz`)).status).toBe(200);
    // A subscriber finds the event stream with the credentials in the file.
    const nc = await connect({ servers: stack.nats.url, ...stack.nats.credentials });
    try {
      const info = await (await jetstreamManager(nc)).streams.info('EVENTS');
      expect(info.config.name).toBe('EVENTS');
    } finally {
      await nc.close();
    }
  });

  it('restarts a service killed with kill -9, updates its PID, and is ready again', async () => {
    const before = stack.services.identity.pid!;
    process.kill(before, 'SIGKILL');
    const after = await waitFor(
      () => {
        const current = readStackFile(dataDir);
        return current && current.services.identity.state === 'running' && current.services.identity.pid !== before ? current : null;
      },
      { timeoutMs: 20000, intervalMs: 50, message: 'identity was not restarted' },
    );
    expect(output).toMatch(/identity exited with code null \(signal SIGKILL\); restarting in 250 ms \(attempt 1\)/);
    expect(after.services.identity.restarts).toBe(1);
    expect(alive(after.services.identity.pid)).toBe(true);
    // The rest of the stack was left alone.
    for (const service of ['assets', 'ci-runner', 'gateway'] as const) expect(after.services[service].pid).toBe(stack.services[service].pid);
    await waitForHttp(`${stack.gateway.listenUrl}/readyz`, 30000);
    const login = await waitFor(
      async () => {
        const response = await fetch(`${stack.gateway.listenUrl}/api/v1/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: 'admin', password }),
        });
        return response.status === 200 ? response : null;
      },
      { timeoutMs: 20000, intervalMs: 200, message: 'no login after the restart' },
    );
    expect(login.status).toBe(200);
    stack = after;
  });

  it('SIGTERM stops everything without restarts and removes stack.json', async () => {
    launcher.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(existsSync(stackFilePath(dataDir))).toBe(false);
    expect(output).not.toMatch(/restarting in \d+ ms \(attempt 2\)/);
    expect(output.match(/restarting in/g)).toHaveLength(1);
    for (const pid of [stack.nats.pid, stack.postgres.pid, ...Object.values(stack.services).map((s) => s.pid)]) expect(alive(pid)).toBe(false);
  });
});
