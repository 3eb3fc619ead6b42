import { Injectable } from '@nestjs/common';
import { CiEvents } from '#contracts';
import { narrowEvent, type Projection, type StoredEvent, type Tx } from '#platform';

/** Jobs as the API lists them. */
@Injectable()
export class JobsProjection implements Projection {
  readonly name = 'jobs';

  async reset(tx: Tx): Promise<void> {
    await tx.query('DELETE FROM jobs');
  }

  async apply(tx: Tx, event: StoredEvent): Promise<void> {
    if (narrowEvent(event, CiEvents.jobPut)) {
      const { repoId, repo, name, spec } = event.data;
      await tx.query(
        `INSERT INTO jobs (repo_id, name, repo, spec, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)
         ON CONFLICT (repo_id, name) DO UPDATE SET repo = EXCLUDED.repo, spec = EXCLUDED.spec, updated_at = EXCLUDED.updated_at`,
        [repoId, name, repo, spec, event.occurredAt],
      );
    } else if (narrowEvent(event, CiEvents.jobDeleted)) {
      await tx.query('DELETE FROM jobs WHERE repo_id = $1 AND name = $2', [event.data.repoId, event.data.name]);
    }
  }
}
