import type { Tx } from '#platform';

/** Why an object is removed: in the `garbage` rows, for whoever reads them. */
export type GarbageReason = 'replaced' | 'deleted' | 'aborted' | 'expired' | 'rejected' | 'repo_deleted';

/**
 * Queues objects for removal, in the caller's transaction: an object leaves S3 only after the
 * change that let go of it committed, and never while a row still points at it (every key is one
 * upload's own object, never pointed at again once let go of).
 */
export async function queueObjects(tx: Tx, keys: string[], reason: GarbageReason, delaySeconds: number): Promise<void> {
  if (keys.length === 0) return;
  await tx.query(
    `INSERT INTO garbage (object_key, reason, due_at) SELECT key, $2, now() + $3 * interval '1 second' FROM unnest($1::text[]) AS key`,
    [keys, reason, delaySeconds],
  );
}

/**
 * Queues every object under `prefix` (listed in S3 when due, so objects no row knows go too), once
 * per delay: a repository's prefix is swept at once and again after the last upload authorized
 * before its deletion can have finished.
 */
export async function queuePrefix(tx: Tx, prefix: string, reason: GarbageReason, delaysSeconds: number[]): Promise<void> {
  await tx.query(
    `INSERT INTO garbage (object_key, is_prefix, reason, due_at) SELECT $1, true, $2, now() + delay * interval '1 second' FROM unnest($3::int[]) AS delay`,
    [prefix, reason, delaysSeconds],
  );
}
