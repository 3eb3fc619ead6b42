import { Injectable } from '@nestjs/common';
import { CI_TOKEN_SCOPES, GantryError, ROLE_SCOPES, type CredentialRef, type Principal, type Role, type Scope } from '#contracts';
import { Database } from '#platform';

interface SessionRow {
  user_id: string;
  expires_at: Date;
  ended_at: Date | null;
  username: string | null;
  role: Role | null;
  active: boolean | null;
}

interface PatRow {
  token_id: string;
  user_id: string;
  scopes: Scope[];
  expires_at: Date | null;
  revoked_at: Date | null;
  username: string | null;
  role: Role | null;
  active: boolean | null;
}

/**
 * Credential → principal with the user's current role and state. Checked in the order a user
 * would want to be told: unknown, revoked, expired, then the owner's state.
 */
@Injectable()
export class CredentialResolver {
  constructor(private readonly db: Database) {}

  resolve(credential: CredentialRef): Promise<Principal> {
    return credential.kind === 'session' ? this.session(credential.sessionId, credential.userId) : this.token(credential.hash);
  }

  private async session(sessionId: string, userId: string): Promise<Principal> {
    const { rows } = await this.db.query<SessionRow>(
      `SELECT s.user_id, s.expires_at, s.ended_at, u.username, u.role, u.active
         FROM sessions s LEFT JOIN users u ON u.id = s.user_id WHERE s.id = $1`,
      [sessionId],
    );
    const row = rows[0];
    if (!row || row.user_id !== userId) throw new GantryError('invalid_token', 'unknown session');
    if (row.ended_at) throw new GantryError('token_revoked', 'this session has ended: log in again');
    if (row.expires_at.getTime() <= Date.now()) throw new GantryError('token_expired', 'session expired: log in again');
    const { username, role } = liveUser(row);
    return { kind: 'session', credentialId: sessionId, userId, username, role, repoId: null, runId: null, scopes: [...ROLE_SCOPES[role]], expiresAt: seconds(row.expires_at) };
  }

  private async token(hash: string): Promise<Principal> {
    const { rows } = await this.db.query<{ kind: string; token_id: string }>(`SELECT kind, token_id FROM token_hashes WHERE hash = decode($1, 'hex')`, [hash]);
    const found = rows[0];
    if (!found) return this.retired(hash);
    // An install token is only ever good for the exchange, which does not come through here.
    if (found.kind === 'install') throw new GantryError('invalid_token', 'unknown token');
    if (found.kind === 'runner') return this.runner(found.token_id);
    if (found.kind === 'api_key') return this.apiKey(found.token_id);
    if (found.kind === 'ci_job') return this.ciJob(found.token_id);
    return this.pat(found.token_id);
  }

  /** A token replaced by a rotation is revoked; anything else unknown is just invalid. */
  private async retired(hash: string): Promise<never> {
    const { rowCount } = await this.db.query(`SELECT 1 FROM retired_token_hashes WHERE hash = decode($1, 'hex')`, [hash]);
    if (rowCount) throw new GantryError('token_revoked', 'this token was replaced by a rotation');
    throw new GantryError('invalid_token', 'unknown token');
  }

  private async runner(runnerId: string): Promise<Principal> {
    const { rows } = await this.db.query<{ name: string; revoked_at: Date | null }>('SELECT name, revoked_at FROM runners WHERE id = $1', [runnerId]);
    if (!rows[0]) throw new GantryError('invalid_token', 'unknown token');
    if (rows[0].revoked_at) throw new GantryError('token_revoked', 'this runner has been revoked');
    return { kind: 'runner', credentialId: runnerId, userId: null, username: rows[0].name, role: null, repoId: null, runId: null, scopes: [], expiresAt: null };
  }

  private async apiKey(keyId: string): Promise<Principal> {
    const { rows } = await this.db.query<{ repo_id: string; name: string; scopes: Scope[]; expires_at: Date | null; revoked_at: Date | null }>(
      'SELECT repo_id, name, scopes, expires_at, revoked_at FROM api_keys WHERE id = $1',
      [keyId],
    );
    const row = rows[0];
    if (!row) throw new GantryError('invalid_token', 'unknown token');
    if (row.revoked_at) throw new GantryError('token_revoked', 'this key has been revoked');
    if (row.expires_at && row.expires_at.getTime() <= Date.now()) throw new GantryError('token_expired', 'this key has expired');
    return { kind: 'api_key', credentialId: keyId, userId: null, username: row.name, role: null, repoId: row.repo_id, runId: null, scopes: row.scopes, expiresAt: row.expires_at ? seconds(row.expires_at) : null };
  }

  /**
   * A CI run's token. Its name is `run-<runId>`: 40 characters, so it can never be a username
   * (at most 39), and it says which run acted in event metadata and logs.
   */
  private async ciJob(tokenId: string): Promise<Principal> {
    const { rows } = await this.db.query<{ run_id: string; repo_id: string; expires_at: Date; revoked_at: Date | null; revoke_reason: string | null }>(
      'SELECT run_id, repo_id, expires_at, revoked_at, revoke_reason FROM ci_tokens WHERE id = $1',
      [tokenId],
    );
    const row = rows[0];
    if (!row) throw new GantryError('invalid_token', 'unknown token');
    if (row.revoked_at) throw new GantryError('token_revoked', row.revoke_reason === 'repo_deleted' ? 'the repository of this CI job token was deleted' : 'the run of this CI job token has ended');
    if (row.expires_at.getTime() <= Date.now()) throw new GantryError('token_expired', 'this CI job token has expired');
    return {
      kind: 'ci_job', credentialId: tokenId, userId: null, username: `run-${row.run_id}`, role: null,
      repoId: row.repo_id, runId: row.run_id, scopes: [...CI_TOKEN_SCOPES], expiresAt: seconds(row.expires_at),
    };
  }

  private async pat(tokenId: string): Promise<Principal> {
    const { rows } = await this.db.query<PatRow>(
      `SELECT p.id AS token_id, p.user_id, p.scopes, p.expires_at, p.revoked_at, u.username, u.role, u.active
         FROM pats p LEFT JOIN users u ON u.id = p.user_id WHERE p.id = $1`,
      [tokenId],
    );
    const row = rows[0];
    if (!row) throw new GantryError('invalid_token', 'unknown token');
    if (row.revoked_at) throw new GantryError('token_revoked', 'this token has been revoked');
    if (row.expires_at && row.expires_at.getTime() <= Date.now()) throw new GantryError('token_expired', 'this token has expired');
    const { username, role } = liveUser(row);
    // Never more than the token's scopes, nor more than the user's current role allows.
    const scopes = row.scopes.filter((scope) => ROLE_SCOPES[role].includes(scope));
    return { kind: 'pat', credentialId: row.token_id, userId: row.user_id, username, role, repoId: null, runId: null, scopes, expiresAt: row.expires_at ? seconds(row.expires_at) : null };
  }
}

function liveUser(row: { username: string | null; role: Role | null; active: boolean | null }): { username: string; role: Role } {
  if (row.username === null || row.role === null) throw new GantryError('token_revoked', 'the owner of this credential no longer exists');
  if (!row.active) throw new GantryError('user_deactivated', 'the owner of this credential is deactivated');
  return { username: row.username, role: row.role };
}

const seconds = (date: Date) => Math.floor(date.getTime() / 1000);
