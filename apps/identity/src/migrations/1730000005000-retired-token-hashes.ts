import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Hashes of runner tokens replaced by a rotation: a rotated token is then refused as revoked
 * (401 token_revoked), as the README's error table says, rather than as unknown.
 */
export class RetiredTokenHashes1730000005000 implements MigrationInterface {
  name = 'RetiredTokenHashes1730000005000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE retired_token_hashes (
        hash bytea PRIMARY KEY,
        kind text NOT NULL,
        token_id uuid NOT NULL,
        retired_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE retired_token_hashes');
  }
}
