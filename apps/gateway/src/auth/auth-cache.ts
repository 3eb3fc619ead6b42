import { LRUCache } from 'lru-cache';
import type { Invalidation, Principal } from '#contracts';

/**
 * Bounded LRU of credential hash → principal with a TTL. Misses are single-flight: concurrent
 * requests with one uncached credential share one resolution. Invalidations drop entries by
 * credential or user; they also bump a generation so a resolution that was in flight when the
 * invalidation arrived is returned to its waiters but never cached.
 */
export class AuthCache {
  private readonly entries: LRUCache<string, Principal>;
  /** A credential can have several cache keys (e.g. encodings of one session JWT): drop them all. */
  private readonly keysByCredential = new Map<string, Set<string>>();
  private readonly keysByUser = new Map<string, Set<string>>();
  private inflight = new Map<string, Promise<Principal>>();
  private generation = 0;

  constructor(options: { max: number; ttlMs: number }) {
    this.entries = new LRUCache<string, Principal>({
      max: options.max,
      ttl: Math.max(options.ttlMs, 1),
      dispose: (principal, key) => this.unindex(principal, key),
    });
    this.enabled = options.ttlMs > 0;
  }

  private readonly enabled: boolean;

  get size(): number {
    return this.entries.size;
  }

  /**
   * The cached principal (synchronously: a hit allocates no promise, the gateway's hot path), or
   * the result of `resolve`, shared with concurrent callers.
   */
  get(key: string, resolve: () => Promise<Principal>): Principal | Promise<Principal> {
    const hit = this.entries.get(key);
    if (hit) return hit;
    const pending = this.inflight.get(key);
    if (pending) return pending;
    const generation = this.generation;
    const promise = resolve()
      .then((principal) => {
        if (this.enabled && generation === this.generation) this.store(key, principal);
        return principal;
      })
      .finally(() => {
        if (this.inflight.get(key) === promise) this.inflight.delete(key);
      });
    this.inflight.set(key, promise);
    return promise;
  }

  invalidate(invalidation: Pick<Invalidation, 'credentialIds' | 'userIds' | 'all'>): void {
    this.generation++;
    this.inflight = new Map(); // later requests resolve afresh
    if (invalidation.all) return this.clear();
    for (const credentialId of invalidation.credentialIds) {
      for (const key of [...(this.keysByCredential.get(credentialId) ?? [])]) this.entries.delete(key);
    }
    for (const userId of invalidation.userIds) {
      for (const key of [...(this.keysByUser.get(userId) ?? [])]) this.entries.delete(key);
    }
  }

  clear(): void {
    this.generation++;
    this.inflight = new Map();
    this.entries.clear();
  }

  private store(key: string, principal: Principal): void {
    this.entries.set(key, principal);
    const credentialKeys = this.keysByCredential.get(principal.credentialId) ?? new Set<string>();
    credentialKeys.add(key);
    this.keysByCredential.set(principal.credentialId, credentialKeys);
    if (principal.userId) {
      const keys = this.keysByUser.get(principal.userId) ?? new Set<string>();
      keys.add(key);
      this.keysByUser.set(principal.userId, keys);
    }
  }

  private unindex(principal: Principal, key: string): void {
    const credentialKeys = this.keysByCredential.get(principal.credentialId);
    credentialKeys?.delete(key);
    if (credentialKeys?.size === 0) this.keysByCredential.delete(principal.credentialId);
    const keys = principal.userId ? this.keysByUser.get(principal.userId) : undefined;
    keys?.delete(key);
    if (keys?.size === 0) this.keysByUser.delete(principal.userId!);
  }
}
