import { Injectable } from '@nestjs/common';
import { IdentityEvents } from '#contracts';
import { narrowEvent, type Projection, type StoredEvent, type Tx } from '#platform';

/** Install tokens and runners. last_seen_at is a heartbeat field, not an event: kept across replays. */
@Injectable()
export class RunnersProjection implements Projection {
  readonly name = 'runners';

  async reset(tx: Tx): Promise<void> {
    await tx.query('DELETE FROM install_tokens');
    await tx.query('UPDATE runners SET revoked_at = NULL'); // rows (and last_seen_at) are re-upserted below
  }

  async apply(tx: Tx, event: StoredEvent): Promise<void> {
    if (narrowEvent(event, IdentityEvents.installTokenMinted)) {
      const { installTokenId, labels, description, expiresAt, allowRunnerLabels = false } = event.data;
      await tx.query(
        'INSERT INTO install_tokens (id, labels, description, created_at, expires_at, allow_runner_labels) VALUES ($1, $2, $3, $4, $5, $6)',
        [installTokenId, labels, description, event.occurredAt, expiresAt, allowRunnerLabels],
      );
    } else if (narrowEvent(event, IdentityEvents.installTokenExchanged)) {
      await tx.query('UPDATE install_tokens SET used_at = COALESCE(used_at, $2), runner_id = $3 WHERE id = $1', [event.data.installTokenId, event.occurredAt, event.data.runnerId]);
    } else if (narrowEvent(event, IdentityEvents.installTokenCancelled)) {
      await tx.query('UPDATE install_tokens SET cancelled_at = $2 WHERE id = $1', [event.data.installTokenId, event.occurredAt]);
    } else if (narrowEvent(event, IdentityEvents.runnerRegistered)) {
      const { runnerId, name, labels } = event.data;
      await tx.query(
        `INSERT INTO runners (id, name, labels, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, labels = EXCLUDED.labels, created_at = EXCLUDED.created_at`,
        [runnerId, name, labels, event.occurredAt],
      );
    } else if (narrowEvent(event, IdentityEvents.runnerRevoked)) {
      await tx.query('UPDATE runners SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL', [event.data.runnerId, event.occurredAt]);
    }
  }
}
