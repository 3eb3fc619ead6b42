import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `assets` is the read model (rebuilt from the events by a replay). The rest is not an event and a
 * replay leaves it alone: `uploads` (authorized, not yet completed), `garbage` (objects, or a whole
 * repository's prefix, to remove from S3 once due) and `deleted_repos` (tombstones that refuse
 * uploads to a repository identity deleted).
 */
export class Assets1730000001000 implements MigrationInterface {
  name = 'Assets1730000001000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // COLLATE "C": listings sort by bytes, and the primary key serves `path LIKE 'prefix%'`.
    await queryRunner.query(`
      CREATE TABLE assets (
        repo_id uuid NOT NULL,
        path text COLLATE "C" NOT NULL,
        size bigint NOT NULL CHECK (size >= 0),
        sha256 text NOT NULL,
        content_type text NOT NULL,
        upload_id uuid NOT NULL,
        uploaded_by jsonb NOT NULL,
        uploaded_at timestamptz NOT NULL,
        version integer NOT NULL,
        PRIMARY KEY (repo_id, path)
      )`);
    await queryRunner.query(`
      CREATE TABLE uploads (
        id uuid PRIMARY KEY,
        repo_id uuid NOT NULL,
        path text NOT NULL,
        size bigint NOT NULL CHECK (size >= 0),
        content_type text NOT NULL,
        if_none_match boolean NOT NULL,
        if_match text,
        created_at timestamptz NOT NULL DEFAULT now(),
        url_expires_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL
      )`);
    await queryRunner.query('CREATE INDEX uploads_expiry ON uploads (expires_at)');
    await queryRunner.query('CREATE INDEX uploads_repo ON uploads (repo_id)');
    await queryRunner.query(`
      CREATE TABLE garbage (
        id bigserial PRIMARY KEY,
        object_key text NOT NULL,
        is_prefix boolean NOT NULL DEFAULT false,
        reason text NOT NULL,
        due_at timestamptz NOT NULL,
        attempts integer NOT NULL DEFAULT 0
      )`);
    await queryRunner.query('CREATE INDEX garbage_due ON garbage (due_at)');
    await queryRunner.query(`
      CREATE TABLE deleted_repos (
        repo_id uuid PRIMARY KEY,
        deleted_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE deleted_repos, garbage, uploads, assets');
  }
}
