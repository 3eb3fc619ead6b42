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

  /** Throws RateLimitedError when `key` has no token left, without taking one. */
  check(key: string, now = Date.now()): void {
    const bucket = this.buckets.get(key);
    if (!bucket) return;
    const tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond);
    if (tokens < 1) throw new RateLimitedError(Math.max(1, Math.ceil((1 - tokens) / this.perSecond)));
  }
}

const MAX_WAIT_SECONDS = 15 * 60;
const FAMILIAR_FOR_MS = 30 * 86_400_000;
/** Failures are forgotten a day after the last one. */
const FORGET_AFTER_MS = 86_400_000;

interface Failures {
  count: number;
  until: number;
}

/** A password attempt, counted as a failure from the moment it is reserved until it is settled. */
export interface PasswordAttempt {
  /** The password was right: this client's failures are forgiven and the client becomes familiar. */
  succeeded(): void;
  /** No verdict on the password (identity unavailable, another error): the attempt is given back. */
  cancelled(): void;
}

/**
 * Password-guessing backoff, shared by login and the password change. Two counters:
 * - per username + client: `freePerClient` failures, then every further failure doubles the wait
 *   (1 s, 2 s, 4 s … at most 15 min) before that client may try that username again;
 * - per username across all clients: `freePerUser` failures, then the same doubling wait applies
 *   to every client the user has not signed in from in the last 30 days. A slow-down, not a
 *   lock-out: the user's own familiar clients are never held up by someone else's guesses (the
 *   idea of Azure AD's smart lockout), and the wait never exceeds 15 minutes.
 * An attempt is reserved (counted) before the password is checked, so N parallel guesses count N.
 * A success clears both counters for that username; failures are forgotten a day after the last
 * one. In memory, per gateway, bounded (evicting an entry only ever forgives).
 */
export class PasswordGuessing {
  private readonly perClient = new LRUCache<string, Failures>({ max: 100_000, ttl: FORGET_AFTER_MS });
  private readonly perUser = new LRUCache<string, Failures>({ max: 100_000, ttl: FORGET_AFTER_MS });
  private readonly familiar = new LRUCache<string, true>({ max: 100_000, ttl: FAMILIAR_FOR_MS });

  constructor(
    private readonly freePerClient: number,
    private readonly freePerUser: number,
  ) {}

  /** Reserves one attempt for `username` from `client` (a client key), or throws RateLimitedError. */
  reserve(username: string, client: string, now = Date.now()): PasswordAttempt {
    const user = username.toLowerCase();
    const pair = `${user}\u0000${client}`;
    const byClient = this.perClient.get(pair);
    const byUser = this.perUser.get(user);
    const until = Math.max(byClient?.until ?? 0, this.familiar.has(pair) ? 0 : (byUser?.until ?? 0));
    if (until > now) throw new RateLimitedError(Math.ceil((until - now) / 1000));
    const clientFailures = count(this.perClient, pair, this.freePerClient, now);
    const userFailures = count(this.perUser, user, this.freePerUser, now);
    let settled = false;
    const settle = (action: () => void) => {
      if (!settled) action();
      settled = true;
    };
    return {
      succeeded: () =>
        settle(() => {
          this.perClient.delete(pair);
          this.perUser.delete(user);
          this.familiar.set(pair, true);
        }),
      cancelled: () =>
        settle(() => {
          clientFailures.count = Math.max(0, clientFailures.count - 1);
          userFailures.count = Math.max(0, userFailures.count - 1);
        }),
    };
  }
}

/** Counts one failure under `key`; past the free ones each doubles the wait. */
function count(failures: LRUCache<string, Failures>, key: string, free: number, now: number): Failures {
  const entry = failures.get(key) ?? { count: 0, until: 0 };
  entry.count += 1;
  const over = entry.count - free;
  if (over > 0) entry.until = now + Math.min(MAX_WAIT_SECONDS, 2 ** (over - 1)) * 1000;
  failures.set(key, entry);
  return entry;
}
