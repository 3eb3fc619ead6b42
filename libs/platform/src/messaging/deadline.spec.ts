import { describe, expect, it } from '@jest/globals';
import { headers } from '@nats-io/transport-node';
import { DEADLINE_HEADER } from '#contracts';
import { assertBeforeDeadline, DeadlineExceededError, deadlineOf, setDeadline, withDeadline } from './deadline';

describe('request deadlines', () => {
  it('travel as an epoch-ms header: now + the timeout', () => {
    const h = headers();
    const before = Date.now();
    setDeadline(h, 1500);
    expect(deadlineOf(h)).toBeGreaterThanOrEqual(before + 1500);
    expect(deadlineOf(h)).toBeLessThanOrEqual(Date.now() + 1500);
  });

  it('a missing or malformed header is no deadline', () => {
    expect(deadlineOf(undefined)).toBeNull();
    for (const value of ['', 'soon', '-5', '1e400', '12.5']) {
      const h = headers();
      h.set(DEADLINE_HEADER, value);
      expect(deadlineOf(h)).toBeNull();
    }
  });

  it('past the deadline, work that awaits inside withDeadline is refused; before it, or outside one, it goes on', async () => {
    const deadline = Date.now() + 30;
    await withDeadline(deadline, async () => {
      expect(() => assertBeforeDeadline()).not.toThrow();
      await new Promise((resolve) => setTimeout(resolve, 40)); // still the same request after an await
      expect(() => assertBeforeDeadline()).toThrow(DeadlineExceededError);
    });
    expect(() => assertBeforeDeadline()).not.toThrow();
    await withDeadline(null, async () => expect(() => assertBeforeDeadline(Number.MAX_SAFE_INTEGER)).not.toThrow());
  });

  it('is answered as service_unavailable (the caller already gave up; nothing happened)', () => {
    expect(new DeadlineExceededError(Date.now() - 5).code).toBe('service_unavailable');
  });
});
