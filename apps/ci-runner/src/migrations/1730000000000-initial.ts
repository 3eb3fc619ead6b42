import type { MigrationInterface, QueryRunner } from 'typeorm';
import { createEventStoreTables } from '#platform';

export class Initial1730000000000 implements MigrationInterface {
  name = 'Initial1730000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await createEventStoreTables(queryRunner);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE consumed_events, events');
  }
}
