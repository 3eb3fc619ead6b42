import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Install tokens, runners and repository API keys (read models; their hashes go to token_hashes). */
export class Machines1730000002000 implements MigrationInterface {
  name = 'Machines1730000002000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE install_tokens (
        id uuid PRIMARY KEY,
        labels text[] NOT NULL,
        description text,
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        used_at timestamptz,
        runner_id uuid,
        cancelled_at timestamptz
      )`);
    await queryRunner.query(`
      CREATE TABLE runners (
        id uuid PRIMARY KEY,
        name text NOT NULL,
        labels text[] NOT NULL,
        created_at timestamptz NOT NULL,
        last_seen_at timestamptz,
        revoked_at timestamptz
      )`);
    await queryRunner.query(`
      CREATE TABLE api_keys (
        id uuid PRIMARY KEY,
        repo_id uuid NOT NULL,
        name text NOT NULL,
        prefix text NOT NULL,
        scopes text[] NOT NULL,
        created_at timestamptz NOT NULL,
        expires_at timestamptz,
        revoked_at timestamptz
      )`);
    await queryRunner.query(`CREATE INDEX api_keys_repo ON api_keys (repo_id)`);
    // A runner's token changes on rotation: its hash row is replaced, keyed by the runner id.
    await queryRunner.query(`ALTER TABLE token_hashes DROP CONSTRAINT token_hashes_token_id_key`);
    await queryRunner.query(`CREATE UNIQUE INDEX token_hashes_kind_token ON token_hashes (kind, token_id)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX token_hashes_kind_token');
    await queryRunner.query('DROP TABLE api_keys, runners, install_tokens');
  }
}
