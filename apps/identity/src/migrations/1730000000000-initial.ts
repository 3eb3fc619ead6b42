import type { MigrationInterface, QueryRunner } from 'typeorm';
import { createEventStoreTables } from '#platform';

/**
 * users: projection of the user streams. credentials and signing_keys hold secrets that never go
 * on an event (password hashes, private keys), so they are written beside the events in the same
 * transaction and are not touched by a replay.
 */
export class Initial1730000000000 implements MigrationInterface {
  name = 'Initial1730000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await createEventStoreTables(queryRunner);
    await queryRunner.query(`
      CREATE TABLE users (
        id uuid PRIMARY KEY,
        username text NOT NULL UNIQUE,
        role text NOT NULL CHECK (role IN ('admin', 'member')),
        active boolean NOT NULL DEFAULT true,
        version integer NOT NULL,
        created_at timestamptz NOT NULL
      )`);
    await queryRunner.query(`
      CREATE TABLE credentials (
        user_id uuid PRIMARY KEY,
        password_hash text NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`
      CREATE TABLE signing_keys (
        kid text PRIMARY KEY,
        private_jwk jsonb NOT NULL,
        public_jwk jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE signing_keys, credentials, users, consumed_events, events');
  }
}
