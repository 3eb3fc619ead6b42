import { Injectable } from '@nestjs/common';
import { IdentityEvents } from '#contracts';
import { narrowEvent, type Projection, type StoredEvent, type Tx } from '#platform';

/**
 * Sessions and whether they still count. Deactivation, deletion and a password change end
 * sessions here, so a later reactivation revives none of them.
 */
@Injectable()
export class SessionsProjection implements Projection {
  readonly name = 'sessions';

  async reset(tx: Tx): Promise<void> {
    await tx.query('DELETE FROM sessions');
  }

  async apply(tx: Tx, event: StoredEvent): Promise<void> {
    const endAll = (userId: string, keep: string | null = null) =>
      tx.query('UPDATE sessions SET ended_at = $2 WHERE user_id = $1 AND ended_at IS NULL AND id IS DISTINCT FROM $3', [userId, event.occurredAt, keep]);
    if (narrowEvent(event, IdentityEvents.sessionStarted)) {
      const { sessionId, userId, expiresAt } = event.data;
      await tx.query('INSERT INTO sessions (id, user_id, issued_at, expires_at) VALUES ($1, $2, $3, $4)', [sessionId, userId, event.occurredAt, expiresAt]);
    } else if (narrowEvent(event, IdentityEvents.sessionEnded)) {
      await tx.query('UPDATE sessions SET ended_at = $2 WHERE id = $1 AND ended_at IS NULL', [event.data.sessionId, event.occurredAt]);
    } else if (narrowEvent(event, IdentityEvents.passwordChanged)) {
      await endAll(event.data.userId, event.data.keptSessionId);
    } else if (narrowEvent(event, IdentityEvents.userDeactivated) || narrowEvent(event, IdentityEvents.userDeleted)) {
      await endAll((event.data as { userId: string }).userId);
    }
  }
}
