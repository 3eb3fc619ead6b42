import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launcherAlive, readStackFile, removeStackFile, stackFilePath, writeStackFile, type StackFile } from './stack-file';

function sample(pid = process.pid): StackFile {
  const now = new Date().toISOString();
  const service = (name: string, servicePid: number | null) => ({
    pid: servicePid,
    state: servicePid ? ('running' as const) : ('gave-up' as const),
    restarts: servicePid ? 0 : 5,
    logFile: `/data/logs/${name}.log`,
  });
  return {
    version: 1,
    launcher: { pid, startedAt: now, dataDir: '/data' },
    updatedAt: now,
    gateway: { url: 'http://localhost:8080', listenUrl: 'http://127.0.0.1:8080' },
    nats: { url: 'nats://127.0.0.1:4222', monitorUrl: 'http://127.0.0.1:8222', credentials: { user: 'admin', pass: 'secret' }, pid: 101 },
    postgres: { url: 'postgres://gantry@127.0.0.1:5432/gantry', pid: 102 },
    s3: { endpoint: 'http://127.0.0.1:9000', accessKey: 'S3RVER', secretKey: 'S3RVER', bucket: 'gantry', pid },
    services: { identity: service('identity', 201), assets: service('assets', 202), 'ci-runner': service('ci-runner', null), gateway: service('gateway', 204) },
  };
}

describe('stack file', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'gantry-stack-file-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('round-trips through write and read, mode 0600, leaving no temporary file', () => {
    const stack = sample();
    const umask = process.umask(0);
    try {
      writeStackFile(dir, stack);
    } finally {
      process.umask(umask);
    }
    expect(statSync(stackFilePath(dir)).mode & 0o777).toBe(0o600);
    expect(readStackFile(dir)).toEqual(stack);
    expect(readdirSync(dir)).toEqual(['stack.json']);

    // Rewriting (a restarted service) keeps the mode and replaces the content.
    stack.services.identity = { ...stack.services.identity, pid: 301 };
    writeStackFile(dir, stack);
    expect(readStackFile(dir)!.services.identity.pid).toBe(301);
    expect(statSync(stackFilePath(dir)).mode & 0o777).toBe(0o600);
  });

  it('reads null when there is no file, and throws on a bad one', () => {
    expect(readStackFile(dir)).toBeNull();
    writeFileSync(stackFilePath(dir), '{ not json');
    expect(() => readStackFile(dir)).toThrow(/is not JSON/);
    const { assets: _missing, ...services } = sample().services;
    writeFileSync(stackFilePath(dir), JSON.stringify({ ...sample(), services }));
    expect(() => readStackFile(dir)).toThrow(/is not a valid stack file[\s\S]*assets/);
  });

  it('refuses to write an invalid file', () => {
    expect(() => writeStackFile(dir, { ...sample(), nats: { ...sample().nats, url: 'http://wrong' } })).toThrow();
    expect(existsSync(stackFilePath(dir))).toBe(false);
  });

  it('removes only its own launcher file', () => {
    writeStackFile(dir, sample(process.pid + 1));
    removeStackFile(dir);
    expect(existsSync(stackFilePath(dir))).toBe(true);
    removeStackFile(dir, process.pid + 1);
    expect(existsSync(stackFilePath(dir))).toBe(false);
    removeStackFile(dir); // absent: no error
  });

  it('tells a live launcher from a stale file', () => {
    expect(launcherAlive(sample())).toBe(true);
    const gone = spawnSync(process.execPath, ['-e', '']).pid!;
    expect(launcherAlive(sample(gone))).toBe(false);
  });
});
