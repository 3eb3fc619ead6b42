import { Injectable } from '@nestjs/common';
import { IdentityEvents } from '#contracts';
import { narrowEvent, type Projection, type StoredEvent, type Tx } from '#platform';

/** Repository API keys as lists show them (never the key or its hash). */
@Injectable()
export class ApiKeysProjection implements Projection {
  readonly name = 'api_keys';

  async reset(tx: Tx): Promise<void> {
    await tx.query('DELETE FROM api_keys');
  }

  async apply(tx: Tx, event: StoredEvent): Promise<void> {
    if (narrowEvent(event, IdentityEvents.apiKeyCreated)) {
      const { keyId, repoId, name, prefix, scopes, expiresAt } = event.data;
      await tx.query('INSERT INTO api_keys (id, repo_id, name, prefix, scopes, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
        keyId, repoId, name, prefix, scopes, event.occurredAt, expiresAt,
      ]);
    } else if (narrowEvent(event, IdentityEvents.apiKeyRevoked)) {
      await tx.query('UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL', [event.data.keyId, event.occurredAt]);
    } else if (narrowEvent(event, IdentityEvents.repoDeleted)) {
      await tx.query('UPDATE api_keys SET revoked_at = $2 WHERE repo_id = $1 AND revoked_at IS NULL', [event.data.repoId, event.occurredAt]);
    }
  }
}
