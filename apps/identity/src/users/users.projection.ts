import { Injectable } from '@nestjs/common';
import { IdentityEvents } from '#contracts';
import { narrowEvent, type Projection, type StoredEvent, type Tx } from '#platform';

/** The `users` read model: one row per user, kept in the command's transaction. */
@Injectable()
export class UsersProjection implements Projection {
  readonly name = 'users';

  async reset(tx: Tx): Promise<void> {
    await tx.query('DELETE FROM users');
  }

  async apply(tx: Tx, event: StoredEvent): Promise<void> {
    if (narrowEvent(event, IdentityEvents.userCreated)) {
      const { userId, username, role } = event.data;
      await tx.query('INSERT INTO users (id, username, role, active, version, created_at) VALUES ($1, $2, $3, true, $4, $5)', [
        userId, username, role, event.version, event.occurredAt,
      ]);
    }
  }
}
