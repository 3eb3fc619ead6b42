import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Read models for users, sessions, personal access tokens and repositories (all rebuilt by a
 * replay); token_hashes (the SHA-256 of every opaque token, a secret kept beside the events) and
 * token_usage (batched last-use records) are not events and a replay leaves them alone.
 */
export class Accounts1730000001000 implements MigrationInterface {
  name = 'Accounts1730000001000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE users ADD COLUMN display_name text, ADD COLUMN deactivated_at timestamptz`);
    await queryRunner.query(`
      CREATE TABLE sessions (
        id text PRIMARY KEY,
        user_id uuid NOT NULL,
        issued_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        ended_at timestamptz
      )`);
    await queryRunner.query(`CREATE INDEX sessions_user ON sessions (user_id) WHERE ended_at IS NULL`);
    await queryRunner.query(`
      CREATE TABLE pats (
        id uuid PRIMARY KEY,
        user_id uuid NOT NULL,
        name text NOT NULL,
        prefix text NOT NULL,
        scopes text[] NOT NULL,
        created_at timestamptz NOT NULL,
        expires_at timestamptz,
        revoked_at timestamptz,
        revoke_reason text
      )`);
    await queryRunner.query(`CREATE INDEX pats_user ON pats (user_id, created_at)`);
    await queryRunner.query(`
      CREATE TABLE token_hashes (
        hash bytea PRIMARY KEY,
        kind text NOT NULL,
        token_id uuid NOT NULL UNIQUE
      )`);
    // Last use is not an event (batched from the gateways): kept apart so a replay leaves it alone.
    await queryRunner.query(`
      CREATE TABLE token_usage (
        token_id uuid PRIMARY KEY,
        last_used_at timestamptz NOT NULL,
        last_used_ip text
      )`);
    await queryRunner.query(`
      CREATE TABLE repos (
        id uuid PRIMARY KEY,
        owner_id uuid NOT NULL,
        owner text NOT NULL,
        name text NOT NULL,
        visibility text NOT NULL CHECK (visibility IN ('private', 'public')),
        description text,
        created_at timestamptz NOT NULL,
        UNIQUE (owner, name)
      )`);
    await queryRunner.query(`
      CREATE TABLE repo_members (
        repo_id uuid NOT NULL,
        user_id uuid NOT NULL,
        username text NOT NULL,
        role text NOT NULL CHECK (role IN ('read', 'write', 'admin')),
        PRIMARY KEY (repo_id, user_id)
      )`);
    await queryRunner.query(`CREATE INDEX repo_members_user ON repo_members (user_id)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE repo_members, repos, token_usage, token_hashes, pats, sessions');
    await queryRunner.query('ALTER TABLE users DROP COLUMN display_name, DROP COLUMN deactivated_at');
  }
}
