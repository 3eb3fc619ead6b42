import type { MigrationInterface, QueryRunner } from 'typeorm';
import { createIdempotencyTable } from '#platform';

/** Responses remembered under clients' Idempotency-Keys (see libs/platform/src/idempotency). */
export class IdempotencyKeys1730000002000 implements MigrationInterface {
  name = 'IdempotencyKeys1730000002000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await createIdempotencyTable(queryRunner);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE idempotency_keys');
  }
}
