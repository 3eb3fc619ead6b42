import { Injectable } from '@nestjs/common';
import { IdentityEvents } from '#contracts';
import { narrowEvent, type Projection, type StoredEvent, type Tx } from '#platform';

/** The `users` read model: one row per live user, kept in the command's transaction. */
@Injectable()
export class UsersProjection implements Projection {
  readonly name = 'users';

  async reset(tx: Tx): Promise<void> {
    await tx.query('DELETE FROM users');
  }

  async apply(tx: Tx, event: StoredEvent): Promise<void> {
    if (narrowEvent(event, IdentityEvents.userCreated)) {
      const { userId, username, role, displayName } = event.data;
      await tx.query(
        'INSERT INTO users (id, username, role, display_name, active, version, created_at) VALUES ($1, $2, $3, $4, true, $5, $6)',
        [userId, username, role, displayName ?? null, event.version, event.occurredAt],
      );
    } else if (narrowEvent(event, IdentityEvents.userUpdated)) {
      const { userId, role, displayName } = event.data;
      await tx.query(
        `UPDATE users SET role = COALESCE($2, role), display_name = CASE WHEN $3 THEN $4 ELSE display_name END, version = $5 WHERE id = $1`,
        [userId, role ?? null, displayName !== undefined, displayName ?? null, event.version],
      );
    } else if (narrowEvent(event, IdentityEvents.userDeactivated)) {
      await tx.query('UPDATE users SET active = false, deactivated_at = $2, version = $3 WHERE id = $1', [event.data.userId, event.occurredAt, event.version]);
    } else if (narrowEvent(event, IdentityEvents.userActivated)) {
      await tx.query('UPDATE users SET active = true, deactivated_at = NULL, version = $2 WHERE id = $1', [event.data.userId, event.version]);
    } else if (narrowEvent(event, IdentityEvents.userDeleted)) {
      await tx.query('DELETE FROM users WHERE id = $1', [event.data.userId]);
    } else if (event.streamId.startsWith('user-')) {
      await tx.query('UPDATE users SET version = $2 WHERE id = $1', [event.subject.id, event.version]);
    }
  }
}
