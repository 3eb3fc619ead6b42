import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * CI job tokens. ci_tokens is a read model (rebuilt by a replay from identity.ci_token.* events);
 * the token's hash goes to token_hashes like every other opaque token. ci_runs_ended records the
 * runs identity has seen end (consumed from events.ci.run.ended): like consumed_events it is
 * bookkeeping of another service's events, not identity's own, so a replay leaves it alone.
 */
export class CiTokens1730000003000 implements MigrationInterface {
  name = 'CiTokens1730000003000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE ci_tokens (
        id uuid PRIMARY KEY,
        run_id uuid NOT NULL,
        repo_id uuid NOT NULL,
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz,
        revoke_reason text
      )`);
    // Revocation looks up the live tokens of a run (run ended) or of a repository (repo deleted).
    await queryRunner.query(`CREATE INDEX ci_tokens_run ON ci_tokens (run_id) WHERE revoked_at IS NULL`);
    await queryRunner.query(`CREATE INDEX ci_tokens_repo ON ci_tokens (repo_id) WHERE revoked_at IS NULL`);
    await queryRunner.query(`
      CREATE TABLE ci_runs_ended (
        run_id uuid PRIMARY KEY,
        ended_at timestamptz NOT NULL
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE ci_runs_ended, ci_tokens');
  }
}
