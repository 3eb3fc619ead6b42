import { describe, expect, it } from '@jest/globals';
import { LoginBackoff, RateLimitedError, TokenBuckets } from './rate-limit';

describe('TokenBuckets', () => {
  it('allows a burst, then refuses with the wait until the next token', () => {
    const buckets = new TokenBuckets(2, 3);
    for (let i = 0; i < 3; i++) buckets.take('k', 1000);
    expect(() => buckets.take('k', 1000)).toThrow(RateLimitedError);
    try {
      buckets.take('k', 1000);
    } catch (error) {
      expect((error as RateLimitedError).retryAfterSeconds).toBe(1);
      expect((error as RateLimitedError).code).toBe('rate_limited');
    }
    buckets.take('k', 1600); // refilled at 2/s
    buckets.take('other', 1000); // keys are independent
  });
});

describe('LoginBackoff', () => {
  it('gives free attempts, then doubles the wait; success clears it', () => {
    const backoff = new LoginBackoff(2);
    backoff.failed('u', 'ip', 0);
    backoff.failed('u', 'ip', 0);
    expect(() => backoff.check('u', 'ip', 0)).not.toThrow();
    backoff.failed('u', 'ip', 0); // 1 s
    expect(() => backoff.check('u', 'ip', 500)).toThrow(RateLimitedError);
    expect(() => backoff.check('u', 'ip', 1000)).not.toThrow();
    backoff.failed('u', 'ip', 1000); // 2 s
    expect(() => backoff.check('u', 'ip', 2500)).toThrow(RateLimitedError);
    expect(() => backoff.check('u', 'other-ip', 2500)).not.toThrow();
    backoff.succeeded('u', 'ip');
    expect(() => backoff.check('u', 'ip', 2500)).not.toThrow();
  });
});
