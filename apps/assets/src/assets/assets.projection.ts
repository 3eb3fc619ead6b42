import { Injectable } from '@nestjs/common';
import { AssetsEvents } from '#contracts';
import { narrowEvent, type Projection, type StoredEvent, type Tx } from '#platform';

/**
 * Current assets as the API lists them, with the stream version of the event that made each row
 * (the repository-deletion batch appends at that version without reading every stream).
 */
@Injectable()
export class AssetsProjection implements Projection {
  readonly name = 'assets';

  async reset(tx: Tx): Promise<void> {
    await tx.query('DELETE FROM assets');
  }

  async apply(tx: Tx, event: StoredEvent): Promise<void> {
    if (narrowEvent(event, AssetsEvents.uploaded) || narrowEvent(event, AssetsEvents.replaced)) {
      const { repoId, path, size, sha256, contentType, uploadId } = event.data;
      await tx.query(
        `INSERT INTO assets (repo_id, path, size, sha256, content_type, upload_id, uploaded_by, uploaded_at, version)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (repo_id, path) DO UPDATE SET size = EXCLUDED.size, sha256 = EXCLUDED.sha256, content_type = EXCLUDED.content_type,
           upload_id = EXCLUDED.upload_id, uploaded_by = EXCLUDED.uploaded_by, uploaded_at = EXCLUDED.uploaded_at, version = EXCLUDED.version`,
        [repoId, path, size, sha256, contentType, uploadId, event.meta.actor, event.occurredAt, event.version],
      );
    } else if (narrowEvent(event, AssetsEvents.deleted)) {
      await tx.query('DELETE FROM assets WHERE repo_id = $1 AND path = $2', [event.data.repoId, event.data.path]);
    }
  }
}
