import type { MigrationInterface, QueryRunner } from 'typeorm';
import { envelopeHash, genesisHash, type ChainLink, type EventEnvelope } from '#contracts';
import type { Tx } from '../db/database';
import { rowToEvent, toEnvelope, type EventRow } from './event-store';

/**
 * The audit hash chain is assigned by the outbox relay as it publishes (contracts audit/chain.ts):
 * publication order is the first order that is final (positions are handed out before commit, and
 * transactions commit out of order), and the relay is already serialised by its advisory lock.
 * The chain is stored with the event, so a re-publish sends byte-for-byte the same envelope.
 */
export interface ChainHead {
  seq: number;
  hash: string;
}

/** The last chained event of this schema, or the genesis. */
export async function chainHead(tx: Tx, service: string): Promise<ChainHead> {
  const { rows } = await tx.query<{ chain_seq: string; hash: string }>('SELECT chain_seq, hash FROM events WHERE chain_seq IS NOT NULL ORDER BY chain_seq DESC LIMIT 1');
  return rows[0] ? { seq: Number(rows[0].chain_seq), hash: rows[0].hash } : { seq: 0, hash: genesisHash(service) };
}

export { linkOf };

/** The envelope of `row` as link `head.seq + 1` of the chain. */
export function chainedEnvelope(row: EventRow, service: string, head: ChainHead): EventEnvelope {
  const unhashed = { ...toEnvelope(rowToEvent(row)), service, seq: head.seq + 1, prevHash: head.hash };
  return { ...unhashed, hash: envelopeHash(unhashed) };
}

/** Stores the links of `positions` (and, for the relay, marks them published). */
function storeLinksSql(markPublished: boolean): string {
  return `UPDATE events e SET ${markPublished ? 'published_at = now(), ' : ''}chain_seq = l.seq, prev_hash = l.prev_hash, hash = l.hash
            FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[]) AS l(position, seq, prev_hash, hash)
           WHERE e.position = l.position`;
}

function linkParams(positions: string[], links: ChainLink[]): unknown[] {
  return [positions, links.map((l) => l.seq), links.map((l) => l.prevHash), links.map((l) => l.hash)];
}

/** Records the links of envelopes that were published, and that they were. */
export async function storePublishedLinks(tx: Tx, positions: string[], links: ChainLink[]): Promise<void> {
  if (positions.length > 0) await tx.query(storeLinksSql(true), linkParams(positions, links));
}

function linkOf(envelope: EventEnvelope): ChainLink {
  return { service: envelope.service!, seq: envelope.seq!, prevHash: envelope.prevHash!, hash: envelope.hash! };
}

/** A stored envelope as it was published (for verification and re-publishing). */
export function storedEnvelope(row: EventRow & { chain_seq: string | null; prev_hash: string | null; hash: string | null }, service: string): EventEnvelope {
  const envelope = toEnvelope(rowToEvent(row));
  if (row.chain_seq === null) return envelope;
  return { ...envelope, service, seq: Number(row.chain_seq), prevHash: row.prev_hash!, hash: row.hash! };
}

/**
 * The migration that adds the chain columns and chains the events already published, in the order
 * the relay published them (transaction, then position); unpublished ones are chained by the relay.
 * Events published before it carry no chain on JetStream (their stored copy does).
 */
export function eventChainMigration(service: string): new () => MigrationInterface {
  return class EventChain1730000009000 implements MigrationInterface {
    name = 'EventChain1730000009000';

    async up(queryRunner: QueryRunner): Promise<void> {
      await queryRunner.query('ALTER TABLE events ADD COLUMN chain_seq bigint UNIQUE, ADD COLUMN prev_hash text, ADD COLUMN hash text');
      let head: ChainHead = { seq: 0, hash: genesisHash(service) };
      for (;;) {
        const rows: EventRow[] = await queryRunner.query(
          `SELECT position, id, stream_id, version, type, schema_version, data, meta FROM events
            WHERE published_at IS NOT NULL AND chain_seq IS NULL ORDER BY tx_id, position LIMIT 1000`,
        );
        if (rows.length === 0) return;
        const links = rows.map((row) => {
          const link = linkOf(chainedEnvelope(row, service, head));
          head = link;
          return link;
        });
        await queryRunner.query(storeLinksSql(false), linkParams(rows.map((r) => r.position), links));
      }
    }

    async down(queryRunner: QueryRunner): Promise<void> {
      await queryRunner.query('ALTER TABLE events DROP COLUMN chain_seq, DROP COLUMN prev_hash, DROP COLUMN hash');
    }
  };
}
