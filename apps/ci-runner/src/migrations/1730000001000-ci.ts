import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Read models of jobs and runs (rebuilt from the events by a replay), and what is not an event:
 * run_numbers (a counter per job), run_activity (heartbeats, token attempts, log counters) and run_log_lines (the stored log; see the
 * README's "Run logs" for why PostgreSQL).
 */
export class Ci1730000001000 implements MigrationInterface {
  name = 'Ci1730000001000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE jobs (
        repo_id uuid NOT NULL,
        name text NOT NULL,
        repo text NOT NULL,
        spec jsonb NOT NULL,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        PRIMARY KEY (repo_id, name)
      )`);
    await queryRunner.query(`
      CREATE TABLE runs (
        id uuid PRIMARY KEY,
        repo_id uuid NOT NULL,
        repo text NOT NULL,
        job text NOT NULL,
        number integer NOT NULL,
        status text NOT NULL,
        params jsonb NOT NULL,
        spec jsonb NOT NULL,
        executor text NOT NULL CHECK (executor IN ('local', 'remote')),
        labels text[] NOT NULL,
        triggered_by jsonb NOT NULL,
        created_at timestamptz NOT NULL,
        started_at timestamptz,
        ended_at timestamptz,
        exit_code integer,
        reason text,
        runner jsonb,
        cancel_requested_at timestamptz,
        UNIQUE (repo_id, job, number)
      )`);
    await queryRunner.query(`CREATE INDEX runs_queued ON runs (executor, created_at) WHERE status = 'queued'`);
    await queryRunner.query(`CREATE INDEX runs_running ON runs (executor) WHERE status = 'running'`);
    await queryRunner.query(`CREATE INDEX runs_repo ON runs (repo_id, id DESC)`);
    // Run numbers per job: a counter, not derived from events (a replay leaves it alone).
    await queryRunner.query(`
      CREATE TABLE run_numbers (
        repo_id uuid NOT NULL,
        job text NOT NULL,
        last integer NOT NULL,
        PRIMARY KEY (repo_id, job)
      )`);
    await queryRunner.query(`
      CREATE TABLE run_activity (
        run_id uuid PRIMARY KEY,
        heartbeat_at timestamptz,
        next_attempt_at timestamptz,
        token_attempts integer NOT NULL DEFAULT 0,
        log_lines integer NOT NULL DEFAULT 0,
        log_bytes bigint NOT NULL DEFAULT 0,
        log_truncated boolean NOT NULL DEFAULT false
      )`);
    await queryRunner.query(`
      CREATE TABLE run_log_lines (
        run_id uuid NOT NULL,
        seq integer NOT NULL,
        text text NOT NULL,
        PRIMARY KEY (run_id, seq)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE run_log_lines, run_activity, run_numbers, runs, jobs');
  }
}
