import { Injectable } from '@nestjs/common';
import { IdentityEvents } from '#contracts';
import { narrowEvent, type Projection, type StoredEvent, type Tx } from '#platform';

/**
 * CI job tokens: what the credential resolver checks (run, repository, expiry, revocation). Never
 * the token or its hash. ci_runs_ended is not an event of identity's and is left alone.
 */
@Injectable()
export class CiTokensProjection implements Projection {
  readonly name = 'ci_tokens';

  async reset(tx: Tx): Promise<void> {
    await tx.query('DELETE FROM ci_tokens');
  }

  async apply(tx: Tx, event: StoredEvent): Promise<void> {
    if (narrowEvent(event, IdentityEvents.ciTokenIssued)) {
      const { tokenId, runId, repoId, expiresAt } = event.data;
      await tx.query('INSERT INTO ci_tokens (id, run_id, repo_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)', [tokenId, runId, repoId, event.occurredAt, expiresAt]);
    } else if (narrowEvent(event, IdentityEvents.ciTokenRevoked)) {
      await tx.query('UPDATE ci_tokens SET revoked_at = $2, revoke_reason = $3 WHERE id = $1 AND revoked_at IS NULL', [event.data.tokenId, event.occurredAt, event.data.reason]);
    }
  }
}
