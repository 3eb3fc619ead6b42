import type { Tx } from '../db/database';

/**
 * Records that `consumer` applied `eventId`, in the consumer's own transaction. Returns false when
 * it was applied before (a redelivery): the caller then skips its work and acks.
 */
export async function markConsumed(tx: Tx, consumer: string, eventId: string): Promise<boolean> {
  const result = await tx.query('INSERT INTO consumed_events (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [consumer, eventId]);
  return result.rowCount === 1;
}
