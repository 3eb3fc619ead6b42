import { LRUCache } from 'lru-cache';
import { GantryError } from '#contracts';

/** 429 rate_limited; the error filter turns `retryAfterSeconds` into a Retry-After header. */
export class RateLimitedError extends GantryError {
  constructor(readonly retryAfterSeconds: number) {
    super('rate_limited', `too many requests: retry after ${retryAfterSeconds} s`);
  }
}

/**
 * Token buckets in this gateway's memory, keyed by credential or client IP (bounded: the least
 * recently used keys are forgotten, which only ever forgives).
 */
export class TokenBuckets {
  private readonly buckets = new LRUCache<string, { tokens: number; at: number }>({ max: 100_000 });

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
  ) {}

  /** Takes one token for `key`, or throws RateLimitedError with how long until one is back. */
  take(key: string, now = Date.now()): void {
    let bucket = this.buckets.get(key);
    if (!bucket) this.buckets.set(key, (bucket = { tokens: this.burst, at: now }));
    // Updated in place: get() already marked it recently used; no set() on the hot path.
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond);
    bucket.at = now;
    if (bucket.tokens < 1) throw new RateLimitedError(Math.max(1, Math.ceil((1 - bucket.tokens) / this.perSecond)));
    bucket.tokens -= 1;
  }
}

/**
 * Login brute-force backoff per username + IP: a few free failures, then each further failure
 * doubles the wait (1 s, 2 s, 4 s … at most 15 min). A success clears it.
 */
export class LoginBackoff {
  private readonly failures = new LRUCache<string, { count: number; until: number }>({ max: 100_000 });

  constructor(private readonly freeAttempts: number) {}

  check(username: string, ip: string, now = Date.now()): void {
    const entry = this.failures.get(`${username}\u0000${ip}`);
    if (entry && entry.until > now) throw new RateLimitedError(Math.ceil((entry.until - now) / 1000));
  }

  failed(username: string, ip: string, now = Date.now()): void {
    const key = `${username}\u0000${ip}`;
    const count = (this.failures.get(key)?.count ?? 0) + 1;
    const over = count - this.freeAttempts;
    const until = over > 0 ? now + Math.min(15 * 60, 2 ** (over - 1)) * 1000 : 0;
    this.failures.set(key, { count, until });
  }

  succeeded(username: string, ip: string): void {
    this.failures.delete(`${username}\u0000${ip}`);
  }
}
