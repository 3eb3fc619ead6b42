import type { QueryRunner } from 'typeorm';

/**
 * The event store's tables, created by each service's first migration in its own schema.
 * `events` is both the system of record and the outbox (published_at marks what the relay sent).
 * `tx_id` lets the relay publish only below the oldest running transaction, so an event whose
 * transaction commits late with a lower position is never skipped.
 */
export async function createEventStoreTables(queryRunner: QueryRunner): Promise<void> {
  await queryRunner.query(`
    CREATE TABLE events (
      position bigserial PRIMARY KEY,
      id uuid NOT NULL UNIQUE,
      stream_id text NOT NULL,
      version integer NOT NULL CHECK (version > 0),
      type text NOT NULL,
      schema_version integer NOT NULL,
      data jsonb NOT NULL,
      meta jsonb NOT NULL,
      tx_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
      published_at timestamptz,
      CONSTRAINT events_stream_version UNIQUE (stream_id, version)
    )`);
  await queryRunner.query(
    `CREATE INDEX events_unpublished ON events (tx_id, position) WHERE published_at IS NULL`,
  );
  // Idempotent consumers of other services' events remember what they applied.
  await queryRunner.query(`
    CREATE TABLE consumed_events (
      consumer text NOT NULL,
      event_id uuid NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (consumer, event_id)
    )`);
}

/** The first migration of a service whose schema starts with the event store alone. */
export class EventStoreInitial1730000000000 {
  name = 'Initial1730000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await createEventStoreTables(queryRunner);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE consumed_events, events');
  }
}
