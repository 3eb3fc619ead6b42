import { afterEach, describe, expect, it, jest } from '@jest/globals';
import type { Logger } from 'pino';
import type { Principal } from '#contracts';
import type { RpcClient } from '#platform';
import type { GatewayConfig } from '../config';
import { UsageRecorder } from './usage-recorder';

const pat = (credentialId: string): Principal => ({
  kind: 'pat', credentialId, userId: 'u', username: 'u', role: 'member', repoId: null, runId: null, scopes: [], expiresAt: null,
});

describe('UsageRecorder', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('sends each token at most once a minute, and forgets sends older than a minute', async () => {
    jest.useFakeTimers({ now: 1_000_000, doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    const batches: unknown[] = [];
    const rpc = { request: async (_contract: unknown, payload: unknown) => void batches.push(payload) } as unknown as RpcClient;
    const recorder = new UsageRecorder(rpc, { GANTRY_USAGE_FLUSH_MS: 10_000 } as GatewayConfig, { warn: () => undefined } as unknown as Logger);
    for (let i = 0; i < 1000; i++) recorder.record(pat(`t${i}`), '203.0.113.1');
    await recorder.flush();
    expect([batches.length, recorder.tracked]).toEqual([1, 1000]);
    recorder.record(pat('t1'), '203.0.113.1'); // within the minute: not sent again
    jest.setSystemTime(1_030_000);
    await recorder.flush();
    expect([batches.length, recorder.tracked]).toEqual([1, 1000]);
    jest.setSystemTime(1_061_000);
    await recorder.flush();
    expect(recorder.tracked).toBe(0);
    recorder.record(pat('t1'), '203.0.113.1');
    await recorder.flush();
    expect([batches.length, recorder.tracked]).toEqual([2, 1]);
  });
});
