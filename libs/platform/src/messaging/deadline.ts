import { AsyncLocalStorage } from 'node:async_hooks';
import type { MsgHdrs } from '@nats-io/transport-node';
import { DEADLINE_HEADER, GantryError } from '#contracts';

/**
 * The caller's deadline travels with every NATS request (`Gantry-Deadline`, epoch ms): past it the
 * caller has answered its client with 503 and will never see the reply, so work done after it is
 * work nobody knows about (a revoke applied after "503", a session nobody received). A service
 * drops a request whose deadline has passed before starting it, and `EventStore.execute` rolls a
 * transaction back instead of committing it late. Absolute time: hosts keep their clocks in sync
 * (NTP); a skew shortens or lengthens the budget by that much.
 */
const current = new AsyncLocalStorage<number>();

/** Thrown instead of starting or committing work the caller no longer waits for. */
export class DeadlineExceededError extends GantryError {
  constructor(deadline: number) {
    super('service_unavailable', `the caller stopped waiting ${Date.now() - deadline} ms ago`);
  }
}

export function setDeadline(headers: MsgHdrs, timeoutMs: number): void {
  headers.set(DEADLINE_HEADER, String(Date.now() + timeoutMs));
}

/** The deadline a request carries, or null (a caller that sends none waits for ever). */
export function deadlineOf(headers: MsgHdrs | undefined): number | null {
  const value = Number(headers?.get(DEADLINE_HEADER));
  return Number.isSafeInteger(value) && value > 0 ? value : null;
}

/** Runs `work` (and everything it awaits) under `deadline`. */
export function withDeadline<T>(deadline: number | null, work: () => T): T {
  return deadline === null ? work() : current.run(deadline, work);
}

/** Throws DeadlineExceededError when the current request's deadline has passed. */
export function assertBeforeDeadline(now = Date.now()): void {
  const deadline = current.getStore();
  if (deadline !== undefined && now >= deadline) throw new DeadlineExceededError(deadline);
}
