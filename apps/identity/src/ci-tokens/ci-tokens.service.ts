import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { GantryError, generateToken, hashToken, IdentityEvents, type IdentityRequests, type RequestOf, type ResponseOf } from '#contracts';
import { Database, EventStore, type EventMeta, type RequestContext, type Tx } from '#platform';

type Issue = typeof IdentityRequests.ciTokens.issue;
type RevokeReason = 'run_ended' | 'repo_deleted';

/**
 * Backstop lifetime of a CI job token: a run's longest timeout (24 h) plus the 10 min grace of
 * DESIGN §2, rounded up to 25 h so a ci-runner clock a little ahead is not refused.
 */
export const CI_TOKEN_MAX_TTL_MS = 25 * 60 * 60 * 1000;

export const ciTokenStream = (tokenId: string) => `ci-token-${tokenId}`;
const subject = (tokenId: string) => ({ kind: 'ci_token', id: tokenId });

/**
 * Issuing a run's token and revoking a run's tokens both take this lock first, so an issue racing
 * the run's end either sees the run ended (run_finished) or commits a token the end then revokes.
 * Two-key form: the first key keeps it apart from other advisory locks in the database.
 */
async function lockRun(tx: Tx, runId: string): Promise<void> {
  await tx.query(`SELECT pg_advisory_xact_lock(hashtext('identity.ci_run'), hashtext($1))`, [runId]);
}

/**
 * CI job tokens (`gtc_`): one per request of the ci-runner as a run starts, bound to the run's
 * repository, revoked when the run ends or the repository is deleted, expiring at the latest 25 h
 * after issue. The raw token exists only in the issue reply: stored as its SHA-256, never logged,
 * never in an event.
 */
@Injectable()
export class CiTokensService {
  constructor(
    private readonly db: Database,
    private readonly store: EventStore,
  ) {}

  async issue(request: RequestOf<Issue>, context: RequestContext): Promise<ResponseOf<Issue>> {
    const { runId, repoId } = request;
    const now = Date.now();
    const requested = Date.parse(request.expiresAt);
    if (requested <= now) throw new GantryError('invalid_request', 'expiresAt must be in the future', 'expiresAt');
    const expiresAt = new Date(Math.min(requested, now + CI_TOKEN_MAX_TTL_MS)).toISOString();
    const tokenId = randomUUID();
    const token = generateToken('ciJob');
    await this.store.execute(async (tx) => {
      await lockRun(tx, runId);
      if (await this.hasEnded(tx, runId)) throw new GantryError('run_finished', 'this run has already ended');
      // FOR SHARE: a repository deletion running now waits for this commit, then revokes this token too.
      const repo = await tx.query('SELECT 1 FROM repos WHERE id = $1 FOR SHARE', [repoId]);
      if (repo.rowCount === 0) throw new GantryError('not_found', 'no such repository', 'repoId');
      await this.store.append(tx, ciTokenStream(tokenId), 0, [
        { contract: IdentityEvents.ciTokenIssued, data: { tokenId, runId, repoId, expiresAt }, subject: subject(tokenId) },
      ], context);
      await tx.query(`INSERT INTO token_hashes (hash, kind, token_id) VALUES (decode($1, 'hex'), 'ci_job', $2)`, [hashToken(token), tokenId]);
    });
    return { token, tokenId, expiresAt };
  }

  /**
   * In the caller's transaction: remembers that the run ended (later issues → run_finished) and
   * revokes its live tokens. Returns the ids revoked now, for the gateways to drop after commit.
   */
  async endRunIn(tx: Tx, runId: string, endedAt: string, meta: EventMeta): Promise<string[]> {
    await lockRun(tx, runId);
    await tx.query('INSERT INTO ci_runs_ended (run_id, ended_at) VALUES ($1, $2) ON CONFLICT (run_id) DO NOTHING', [runId, endedAt]);
    return this.revokeWhere(tx, 'run_id', runId, 'run_ended', meta);
  }

  /** In the repository deletion's transaction: revokes the repository's live tokens. */
  revokeRepoIn(tx: Tx, repoId: string, meta: EventMeta): Promise<string[]> {
    return this.revokeWhere(tx, 'repo_id', repoId, 'repo_deleted', meta);
  }

  /** Every token of the run that its end revoked (to tell the gateways again on a redelivery). */
  async revokedByRunEnd(runId: string): Promise<string[]> {
    const { rows } = await this.db.query<{ id: string }>(`SELECT id FROM ci_tokens WHERE run_id = $1 AND revoke_reason = 'run_ended'`, [runId]);
    return rows.map((row) => row.id);
  }

  private async hasEnded(tx: Tx, runId: string): Promise<boolean> {
    const { rowCount } = await tx.query('SELECT 1 FROM ci_runs_ended WHERE run_id = $1', [runId]);
    return rowCount !== 0;
  }

  private async revokeWhere(tx: Tx, column: 'run_id' | 'repo_id', id: string, reason: RevokeReason, meta: EventMeta): Promise<string[]> {
    // By id: two revokers of overlapping sets (run end, repository deletion) append in one order,
    // so one waits for the other instead of deadlocking.
    const { rows } = await tx.query<{ id: string; run_id: string }>(`SELECT id, run_id FROM ci_tokens WHERE ${column} = $1 AND revoked_at IS NULL ORDER BY id`, [id]);
    for (const row of rows) {
      // A token's stream is `issued` (v1), then at most `revoked` (v2): a concurrent revoker of the
      // same token loses on the version, and its command is retried from scratch by store.execute.
      await this.store.append(tx, ciTokenStream(row.id), 1, [
        { contract: IdentityEvents.ciTokenRevoked, data: { tokenId: row.id, runId: row.run_id, reason }, subject: subject(row.id) },
      ], meta);
    }
    return rows.map((row) => row.id);
  }
}
