import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { generateToken } from '#contracts';
import { Database, runMigrations } from '#platform';
import { testInfra, type TestInfra } from '#platform/testing/test-infra';
import type { CiConfig } from '../config';
import { CI_MIGRATIONS } from '../migrations';
import { RunLogStore } from './run-log.store';

describe('RunLogStore (real PostgreSQL)', () => {
  let infra: TestInfra;
  let db: Database;
  let store: RunLogStore;

  const newRun = async () => {
    const runId = randomUUID();
    await db.query('INSERT INTO run_activity (run_id) VALUES ($1)', [runId]);
    return runId;
  };
  const stored = async (runId: string) => (await db.query<{ text: string }>('SELECT text FROM run_log_lines WHERE run_id = $1 ORDER BY seq', [runId])).rows.map((row) => row.text);

  beforeAll(async () => {
    infra = await testInfra();
    await runMigrations(infra.databaseUrl, 'ci', CI_MIGRATIONS);
    db = new Database({ url: infra.databaseUrl, schema: 'ci', poolSize: 4, applicationName: 'log-store-test' });
    store = new RunLogStore(db, { GANTRY_CI_LOG_MAX_BYTES: 2048 } as CiConfig);
  });
  afterAll(async () => {
    await db?.close();
    await infra?.stop();
  });

  it('stores lines in order; a resent batch is skipped by seq; a gap is a 409', async () => {
    const runId = await newRun();
    expect((await store.append(runId, 1, ['a', 'b'])).map((line) => line.seq)).toEqual([1, 2]);
    expect(await store.append(runId, 1, ['a', 'b', 'c'])).toEqual([{ seq: 3, text: 'c' }]);
    expect(await store.append(runId, 2, ['b'])).toEqual([]);
    await expect(store.append(runId, 9, ['x'])).rejects.toMatchObject({ code: 'conflict' });
    expect(await stored(runId)).toEqual(['a', 'b', 'c']);
    await expect(store.append(randomUUID(), 1, ['x'])).rejects.toMatchObject({ code: 'not_found' });
  });

  it('caps the stored log with one truncation marker, then drops further lines', async () => {
    const runId = await newRun();
    const lines = Array.from({ length: 100 }, (_, i) => `line ${i} `.padEnd(50, '.'));
    const written = await store.append(runId, 1, lines);
    expect(written.at(-1)!.text).toMatch(/^\[gantry\] log truncated/);
    expect(written.length).toBe(Math.floor(2048 / 51) + 1);
    expect(await store.append(runId, written.length + 1, ['more'])).toEqual([]);
    const all = await stored(runId);
    expect(all.length).toBe(written.length);
    expect(all.slice(0, -1).reduce((bytes, text) => bytes + Buffer.byteLength(text) + 1, 0)).toBeLessThanOrEqual(2048);
  });

  it('masks anything shaped like a Gantry token with a valid checksum', async () => {
    const runId = await newRun();
    const token = generateToken('ciJob');
    const lookalike = `gtc_${'A'.repeat(36)}`;
    await store.append(runId, 1, [`token ${token} end`, `not a token ${lookalike}`]);
    expect(await stored(runId)).toEqual(['token *** end', `not a token ${lookalike}`]);
  });

  it('pages by sequence number, within about 512 KiB a page', async () => {
    const runId = await newRun();
    const big = new RunLogStore(db, { GANTRY_CI_LOG_MAX_BYTES: 10 * 1024 * 1024 } as CiConfig);
    await big.append(runId, 1, Array.from({ length: 300 }, (_, i) => `${i + 1}:`.padEnd(4000, 'x')));
    const first = await big.page(runId, 0, 1000);
    expect(first.length).toBeGreaterThan(10);
    expect(first.length).toBeLessThan(300);
    const second = await big.page(runId, first.at(-1)!.seq, 1000);
    expect(second[0].seq).toBe(first.at(-1)!.seq + 1);
    expect((await big.page(runId, 298, 1000)).map((line) => line.seq)).toEqual([299, 300]);
  });
});
