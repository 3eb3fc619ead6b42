import { Injectable } from '@nestjs/common';
import { IdentityEvents } from '#contracts';
import { narrowEvent, type Projection, type StoredEvent, type Tx } from '#platform';

/** Repositories and their members: the authorization data the gateway asks for. */
@Injectable()
export class ReposProjection implements Projection {
  readonly name = 'repos';

  async reset(tx: Tx): Promise<void> {
    await tx.query('DELETE FROM repo_members');
    await tx.query('DELETE FROM repos');
  }

  async apply(tx: Tx, event: StoredEvent): Promise<void> {
    if (narrowEvent(event, IdentityEvents.repoCreated)) {
      const { repoId, ownerId, owner, name, visibility, description } = event.data;
      await tx.query(
        'INSERT INTO repos (id, owner_id, owner, name, visibility, description, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)',
        [repoId, ownerId, owner, name, visibility, description, event.occurredAt],
      );
    } else if (narrowEvent(event, IdentityEvents.repoUpdated)) {
      const { repoId, visibility, description } = event.data;
      await tx.query(
        'UPDATE repos SET visibility = COALESCE($2, visibility), description = CASE WHEN $3 THEN $4 ELSE description END WHERE id = $1',
        [repoId, visibility ?? null, description !== undefined, description ?? null],
      );
    } else if (narrowEvent(event, IdentityEvents.repoDeleted)) {
      await tx.query('DELETE FROM repo_members WHERE repo_id = $1', [event.data.repoId]);
      await tx.query('DELETE FROM repos WHERE id = $1', [event.data.repoId]);
    } else if (narrowEvent(event, IdentityEvents.memberSet)) {
      const { repoId, userId, username, role } = event.data;
      await tx.query(
        `INSERT INTO repo_members (repo_id, user_id, username, role) VALUES ($1, $2, $3, $4)
         ON CONFLICT (repo_id, user_id) DO UPDATE SET role = EXCLUDED.role, username = EXCLUDED.username`,
        [repoId, userId, username, role],
      );
    } else if (narrowEvent(event, IdentityEvents.memberRemoved)) {
      await tx.query('DELETE FROM repo_members WHERE repo_id = $1 AND user_id = $2', [event.data.repoId, event.data.userId]);
    } else if (narrowEvent(event, IdentityEvents.userDeleted)) {
      await tx.query('DELETE FROM repo_members WHERE user_id = $1', [event.data.userId]);
    }
  }
}
