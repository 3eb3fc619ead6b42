import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { GantryError, generateToken, hashToken, IdentityRequests, parseToken, type CreatePatBody, type Pat, type ResponseOf } from '#contracts';
import { Database, EventStore, Idempotency, type RequestContext, type Tx } from '#platform';
import { GatewayInvalidator } from '../auth/gateway-invalidator';
import { IDENTITY_CONFIG, type IdentityConfig } from '../config';
import { UsersQueries } from '../users/users.queries';
import { decideCreatePat, decideRevokePat, evolvePat, initialPatState, patStream, type PatState } from './pats.decider';

type CreatedPat = ResponseOf<typeof IdentityRequests.pats.create>;

interface PatRow {
  id: string;
  user_id: string;
  name: string;
  prefix: string;
  scopes: Pat['scopes'];
  created_at: Date;
  expires_at: Date | null;
  revoked_at: Date | null;
  last_used_at: Date | null;
  last_used_ip: string | null;
}

const SELECT = `SELECT p.id, p.user_id, p.name, p.prefix, p.scopes, p.created_at, p.expires_at, p.revoked_at, u.last_used_at, u.last_used_ip
                  FROM pats p LEFT JOIN token_usage u ON u.token_id = p.id`;

/** Personal access tokens: the raw token exists only in the create/rotate response. */
@Injectable()
export class PatsService {
  constructor(
    private readonly db: Database,
    private readonly store: EventStore,
    private readonly users: UsersQueries,
    private readonly invalidator: GatewayInvalidator,
    private readonly idempotency: Idempotency,
    @Inject(IDENTITY_CONFIG) private readonly config: IdentityConfig,
  ) {}

  /** With an Idempotency-Key, a retry gets the same token back, sealed to the credential that made it. */
  create(userId: string, body: CreatePatBody, context: RequestContext): Promise<CreatedPat> {
    return this.store.execute((tx) => this.idempotency.once(tx, context, { secret: true, response: IdentityRequests.pats.create.response }, () => this.insert(tx, userId, body, null, context)));
  }

  async list(userId: string | null): Promise<{ items: Pat[] }> {
    const { rows } = await this.db.query<PatRow>(`${SELECT} WHERE $1::uuid IS NULL OR p.user_id = $1 ORDER BY p.created_at DESC`, [userId]);
    return { items: rows.map(toPat) };
  }

  async get(userId: string | null, tokenId: string, tx: Tx = this.db): Promise<Pat> {
    const { rows } = await tx.query<PatRow>(`${SELECT} WHERE p.id = $1 AND ($2::uuid IS NULL OR p.user_id = $2)`, [tokenId, userId]);
    if (!rows[0]) throw new GantryError('not_found', 'no such token');
    return toPat(rows[0]);
  }

  /** Revokes; returns once every live gateway has dropped it. userId null: an admin revoking. */
  async revoke(userId: string | null, tokenId: string, context: RequestContext): Promise<Pat> {
    await this.get(userId, tokenId);
    await this.store.execute(async (tx) => {
      const state = await this.load(tx, tokenId);
      await this.store.append(tx, patStream(tokenId), state.version, decideRevokePat(state, tokenId, userId === null ? 'admin' : 'owner'), context);
    });
    await this.invalidator.invalidate({ credentialIds: [tokenId] });
    return this.get(userId, tokenId);
  }

  /** Revokes in the caller's transaction (leaked-credential reports); false if already revoked. */
  async revokeIn(tx: Tx, tokenId: string, reason: 'leaked', context: RequestContext): Promise<boolean> {
    const state = await this.load(tx, tokenId);
    const events = decideRevokePat(state, tokenId, reason);
    await this.store.append(tx, patStream(tokenId), state.version, events, context);
    return events.length > 0;
  }

  /**
   * A new token with the same name, scopes and expiry, the old one revoked, in one transaction:
   * rotation replaces a secret, it never extends its life.
   */
  async rotate(userId: string, tokenId: string, context: RequestContext): Promise<CreatedPat> {
    // The check is inside the transaction, after the idempotency lookup: a retried rotation finds
    // the old token revoked, and must get the first rotation's token rather than a conflict.
    const created = await this.store.execute((tx) => this.idempotency.once(tx, context, { secret: true, response: IdentityRequests.pats.rotate.response }, async () => {
      const old = await this.get(userId, tokenId, tx);
      if (old.revokedAt) throw new GantryError('conflict', 'a revoked token cannot be rotated');
      const state = await this.load(tx, tokenId);
      await this.store.append(tx, patStream(tokenId), state.version, decideRevokePat(state, tokenId, 'rotated'), context);
      return this.insert(tx, userId, { name: old.name, scopes: old.scopes, expiresInDays: null }, { rotatedFrom: tokenId, keptExpiresAt: old.expiresAt }, context);
    }));
    await this.invalidator.invalidate({ credentialIds: [tokenId] });
    return created;
  }

  private async insert(tx: Tx, userId: string, body: CreatePatBody, rotation: { rotatedFrom: string; keptExpiresAt: string | null } | null, context: RequestContext): Promise<CreatedPat> {
    const user = await this.users.get(userId, tx);
    const token = generateToken('pat');
    const tokenId = randomUUID();
    const prefix = parseToken(token)!.displayPrefix;
    const events = decideCreatePat(
      { tokenId, userId, userRole: user.role, name: body.name, prefix, scopes: body.scopes, expiresInDays: body.expiresInDays, rotatedFrom: rotation?.rotatedFrom ?? null, keptExpiresAt: rotation?.keptExpiresAt, now: new Date() },
      { maxDays: this.config.GANTRY_PAT_MAX_DAYS, allowNoExpiry: this.config.GANTRY_PAT_ALLOW_NO_EXPIRY },
    );
    const [stored] = await this.store.append(tx, patStream(tokenId), 0, events, context);
    await tx.query(`INSERT INTO token_hashes (hash, kind, token_id) VALUES (decode($1, 'hex'), 'pat', $2)`, [hashToken(token), tokenId]);
    const data = stored.data as { expiresAt: string | null };
    return { id: tokenId, name: body.name, token, prefix, scopes: body.scopes, expiresAt: data.expiresAt, createdAt: stored.occurredAt };
  }

  private async load(tx: Tx, tokenId: string): Promise<PatState> {
    return (await this.store.readStream(tx, patStream(tokenId))).reduce(evolvePat, initialPatState);
  }
}

function toPat(row: PatRow): Pat {
  return {
    id: row.id, userId: row.user_id, name: row.name, prefix: row.prefix, scopes: row.scopes,
    createdAt: row.created_at.toISOString(), expiresAt: row.expires_at?.toISOString() ?? null,
    lastUsedAt: row.last_used_at?.toISOString() ?? null, lastUsedIp: row.last_used_ip, revokedAt: row.revoked_at?.toISOString() ?? null,
  };
}
