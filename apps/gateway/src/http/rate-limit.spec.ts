import { describe, expect, it } from '@jest/globals';
import { PasswordGuessing, RateLimitedError, TokenBuckets } from './rate-limit';

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

describe('TokenBuckets.check', () => {
  it('refuses an empty bucket without taking a token, and passes an unknown key', () => {
    const buckets = new TokenBuckets(1, 1);
    buckets.check('k', 0);
    buckets.take('k', 0);
    expect(() => buckets.check('k', 500)).toThrow(RateLimitedError);
    buckets.check('k', 1000);
    buckets.take('k', 1000); // check took nothing
  });
});

describe('PasswordGuessing', () => {
  const fail = (guessing: PasswordGuessing, user: string, client: string, now: number) => guessing.reserve(user, client, now);

  it('per username + client: free attempts, then doubling waits; success clears it', () => {
    const guessing = new PasswordGuessing(2, 100);
    fail(guessing, 'u', 'ip', 0);
    fail(guessing, 'u', 'ip', 0);
    fail(guessing, 'u', 'ip', 0); // the first past the free ones: 1 s
    expect(() => guessing.reserve('u', 'ip', 500)).toThrow(RateLimitedError);
    fail(guessing, 'u', 'ip', 1000); // 2 s
    expect(() => guessing.reserve('u', 'ip', 2500)).toThrow(RateLimitedError);
    expect(() => guessing.reserve('U', 'ip', 2500)).toThrow(RateLimitedError); // usernames are case-blind
    guessing.reserve('u', 'other-ip', 2500).succeeded();
    guessing.reserve('u', 'ip', 3000).succeeded();
    guessing.reserve('u', 'ip', 3000);
  });

  it('reserves before the verdict: parallel attempts count, a cancelled one is given back', () => {
    const guessing = new PasswordGuessing(3, 100);
    const attempts: unknown[] = [];
    let limited = 0;
    for (let i = 0; i < 30; i++) {
      try {
        attempts.push(guessing.reserve('u', 'ip', 0));
      } catch (error) {
        expect(error).toBeInstanceOf(RateLimitedError);
        limited++;
      }
    }
    expect([attempts.length, limited]).toEqual([4, 26]);
    const other = new PasswordGuessing(1, 100);
    other.reserve('u', 'ip', 0).cancelled();
    other.reserve('u', 'ip', 0); // the cancelled one did not count
    other.reserve('u', 'ip', 0); // past the free one: waits from now on
    expect(() => other.reserve('u', 'ip', 0)).toThrow(RateLimitedError);
  });

  it('per username across clients: a slow-down for unfamiliar clients, never for familiar ones', () => {
    const guessing = new PasswordGuessing(5, 3);
    guessing.reserve('u', 'home', 0).succeeded();
    for (let i = 0; i < 4; i++) fail(guessing, 'u', `bot-${i}`, 0);
    const error = (() => {
      try {
        guessing.reserve('u', 'bot-9', 500);
      } catch (caught) {
        return caught as RateLimitedError;
      }
    })();
    expect(error?.retryAfterSeconds).toBe(1);
    guessing.reserve('u', 'home', 500).succeeded(); // the user, from home, is not held up
    guessing.reserve('u', 'bot-9', 500); // and the success cleared the username's count
    guessing.reserve('v', 'bot-9', 500); // other usernames are independent
  });
});
