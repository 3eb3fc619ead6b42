import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Responses remembered under a client's `Idempotency-Key`, per actor (`scope` is `kind:id`), for
 * 24 h. `response` is the JSON of the first response, or when it holds a secret (`sealed`) that
 * JSON encrypted under a key only the credential that made the request can derive (see
 * Idempotency). Each service that serves idempotent creates adds this table with its own migration.
 */
export async function createIdempotencyTable(queryRunner: QueryRunner): Promise<void> {
  await queryRunner.query(`
    CREATE TABLE idempotency_keys (
      scope text NOT NULL,
      key text NOT NULL,
      fingerprint text NOT NULL,
      sealed boolean NOT NULL,
      response bytea,
      created_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz NOT NULL,
      PRIMARY KEY (scope, key)
    )`);
  // The sweep deletes by age.
  await queryRunner.query('CREATE INDEX idempotency_keys_expires_at ON idempotency_keys (expires_at)');
}

/** The migration a service adds to create the table, named for its place in that service's list. */
export function idempotencyKeysMigration(timestamp: number): new () => MigrationInterface {
  return class IdempotencyKeys implements MigrationInterface {
    name = `IdempotencyKeys${timestamp}`;

    async up(queryRunner: QueryRunner): Promise<void> {
      await createIdempotencyTable(queryRunner);
    }

    async down(queryRunner: QueryRunner): Promise<void> {
      await queryRunner.query('DROP TABLE idempotency_keys');
    }
  };
}
