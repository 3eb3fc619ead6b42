import { Injectable } from '@nestjs/common';
import { IdentityEvents } from '#contracts';
import { narrowEvent, type Projection, type StoredEvent, type Tx } from '#platform';

/** Personal access tokens as lists show them (never the token or its hash). */
@Injectable()
export class PatsProjection implements Projection {
  readonly name = 'pats';

  async reset(tx: Tx): Promise<void> {
    await tx.query('DELETE FROM pats');
  }

  async apply(tx: Tx, event: StoredEvent): Promise<void> {
    if (narrowEvent(event, IdentityEvents.patCreated)) {
      const { tokenId, userId, name, prefix, scopes, expiresAt } = event.data;
      await tx.query(
        'INSERT INTO pats (id, user_id, name, prefix, scopes, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)',
        [tokenId, userId, name, prefix, scopes, event.occurredAt, expiresAt],
      );
    } else if (narrowEvent(event, IdentityEvents.patRevoked)) {
      await tx.query('UPDATE pats SET revoked_at = $2, revoke_reason = $3 WHERE id = $1 AND revoked_at IS NULL', [event.data.tokenId, event.occurredAt, event.data.reason]);
    } else if (narrowEvent(event, IdentityEvents.userDeleted)) {
      await tx.query(`UPDATE pats SET revoked_at = $2, revoke_reason = 'user_deleted' WHERE user_id = $1 AND revoked_at IS NULL`, [event.data.userId, event.occurredAt]);
    }
  }
}
