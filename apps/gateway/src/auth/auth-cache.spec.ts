import { describe, expect, it } from '@jest/globals';
import type { Principal } from '#contracts';
import { AuthCache } from './auth-cache';

const principal = (credentialId: string, userId = 'u1'): Principal => ({
  kind: 'pat', credentialId, userId, username: 'alice', role: 'member', repoId: null, runId: null, scopes: ['repo:read'], expiresAt: null,
});
const deferred = <T>() => {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
};

describe('AuthCache', () => {
  it('single-flight: 100 concurrent misses → one resolution', async () => {
    const cache = new AuthCache({ max: 10, ttlMs: 1000 });
    let calls = 0;
    const gate = deferred<Principal>();
    const all = Array.from({ length: 100 }, () => cache.get('k', () => (calls++, gate.promise)));
    gate.resolve(principal('t1'));
    expect(new Set(await Promise.all(all)).size).toBe(1);
    expect(calls).toBe(1);
    await cache.get('k', async () => (calls++, principal('t1')));
    expect(calls).toBe(1); // now a hit
  });

  it('drops entries by credential and by user', async () => {
    const cache = new AuthCache({ max: 10, ttlMs: 1000 });
    await cache.get('a', async () => principal('t1', 'u1'));
    await cache.get('b', async () => principal('t2', 'u1'));
    await cache.get('c', async () => principal('t3', 'u2'));
    cache.invalidate({ credentialIds: ['t1'], userIds: [], all: false });
    expect(cache.size).toBe(2);
    cache.invalidate({ credentialIds: [], userIds: ['u1'], all: false });
    expect(cache.size).toBe(1);
    cache.invalidate({ credentialIds: [], userIds: [], all: true });
    expect(cache.size).toBe(0);
  });

  it('never caches a resolution that was in flight when an invalidation arrived', async () => {
    const cache = new AuthCache({ max: 10, ttlMs: 1000 });
    const gate = deferred<Principal>();
    const first = cache.get('k', () => gate.promise);
    cache.invalidate({ credentialIds: ['t1'], userIds: [], all: false });
    let calls = 0;
    const second = cache.get('k', async () => (calls++, principal('t1')));
    gate.resolve(principal('t1'));
    await Promise.all([first, second]);
    expect(calls).toBe(1); // a request after the invalidation did not join the stale flight
    expect(cache.size).toBe(1); // only the fresh result is cached
  });

  it('is bounded', async () => {
    const cache = new AuthCache({ max: 3, ttlMs: 1000 });
    for (let i = 0; i < 10; i++) await cache.get(`k${i}`, async () => principal(`t${i}`));
    expect(cache.size).toBe(3);
  });
});
