import { Injectable } from '@nestjs/common';
import { GantryError, ROLE_SCOPES, type CredentialRef, type Principal, type Role, type Scope } from '#contracts';
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
    const { rows } = await this.db.query<PatRow>(
      `SELECT p.id AS token_id, p.user_id, p.scopes, p.expires_at, p.revoked_at, u.username, u.role, u.active
         FROM token_hashes th JOIN pats p ON p.id = th.token_id LEFT JOIN users u ON u.id = p.user_id
        WHERE th.hash = decode($1, 'hex') AND th.kind = 'pat'`,
      [hash],
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
