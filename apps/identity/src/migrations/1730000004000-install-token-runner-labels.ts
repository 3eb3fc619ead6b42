import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Whether an install token lets its runner add labels of its own (projection of install_token.minted). */
export class InstallTokenRunnerLabels1730000004000 implements MigrationInterface {
  name = 'InstallTokenRunnerLabels1730000004000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE install_tokens ADD COLUMN allow_runner_labels boolean NOT NULL DEFAULT false');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE install_tokens DROP COLUMN allow_runner_labels');
  }
}
