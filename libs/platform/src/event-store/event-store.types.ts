import type { Actor, EventContract, EventDataOf, EventSubject } from '#contracts';
import type { Tx } from '../db/database';

/** An event to append: its contract (type + schema), its data and what it is about. */
export interface NewEvent<C extends EventContract = EventContract> {
  contract: C;
  data: EventDataOf<C>;
  subject: EventSubject;
}

/** Who asked and from where: goes into every event's metadata. */
export interface EventMeta {
  actor: Actor;
  requestId: string | null;
  ip: string | null;
}

export interface StoredEvent<D = unknown> {
  position: bigint;
  id: string;
  streamId: string;
  version: number;
  type: string;
  schemaVersion: number;
  data: D;
  subject: EventSubject;
  meta: EventMeta;
  occurredAt: string;
}

/** A read model kept in the same transaction as the events, and rebuildable from them. */
export interface Projection {
  readonly name: string;
  /** Empties the projection's tables before a replay. */
  reset(tx: Tx): Promise<void>;
  apply(tx: Tx, event: StoredEvent): Promise<void>;
}

/** The expected version did not match: someone else appended to the stream first. */
export class VersionConflictError extends Error {
  override readonly name = 'VersionConflictError';
  constructor(readonly streamId: string, readonly expectedVersion: number, options?: { cause?: unknown }) {
    super(`stream ${streamId} is past version ${expectedVersion}`, options);
  }
}

export function narrowEvent<C extends EventContract>(event: StoredEvent, contract: C): event is StoredEvent<EventDataOf<C>> {
  return event.type === contract.type;
}
