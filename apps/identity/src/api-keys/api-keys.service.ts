import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { GantryError, generateToken, hashToken, IdentityEvents, IdentityRequests, parseToken, type RequestOf } from '#contracts';
import { Database, EventStore, Idempotency, type RequestContext, type Tx } from '#platform';
import { GatewayInvalidator } from '../auth/gateway-invalidator';

interface ApiKeyRow {
  id: string;
  repo_id: string;
  name: string;
  prefix: string;
  scopes: ('repo:read' | 'assets:write' | 'runs:write')[];
  created_at: Date;
  expires_at: Date | null;
  revoked_at: Date | null;
  last_used_at: Date | null;
}

const keyStream = (id: string) => `api-key-${id}`;

function toApiKey(row: ApiKeyRow) {
  return {
    id: row.id, repoId: row.repo_id, name: row.name, prefix: row.prefix, scopes: row.scopes,
    createdAt: row.created_at.toISOString(), expiresAt: row.expires_at?.toISOString() ?? null,
    lastUsedAt: row.last_used_at?.toISOString() ?? null, revokedAt: row.revoked_at?.toISOString() ?? null,
  };
}

const SELECT = 'SELECT k.*, u.last_used_at FROM api_keys k LEFT JOIN token_usage u ON u.token_id = k.id';

/** Keys bound to one repository, for integrations; created and revoked by its admins. */
@Injectable()
export class ApiKeysService {
  constructor(
    private readonly db: Database,
    private readonly store: EventStore,
    private readonly invalidator: GatewayInvalidator,
    private readonly idempotency: Idempotency,
  ) {}

  async create(request: RequestOf<typeof IdentityRequests.apiKeys.create>, context: RequestContext) {
    const keyId = randomUUID();
    const key = generateToken('apiKey');
    const prefix = parseToken(key)!.displayPrefix;
    const expiresAt = request.expiresInDays ? new Date(Date.now() + request.expiresInDays * 86_400_000).toISOString() : null;
    const data = { keyId, repoId: request.repoId, name: request.name, prefix, scopes: request.scopes, expiresAt };
    return this.store.execute((tx) => this.idempotency.once(tx, context, { secret: true, response: IdentityRequests.apiKeys.create.response }, async () => {
      const [event] = await this.store.append(tx, keyStream(keyId), 0, [{ contract: IdentityEvents.apiKeyCreated, data, subject: { kind: 'api_key', id: keyId } }], context);
      await tx.query(`INSERT INTO token_hashes (hash, kind, token_id) VALUES (decode($1, 'hex'), 'api_key', $2)`, [hashToken(key), keyId]);
      return { id: keyId, name: request.name, token: key, key, prefix, scopes: request.scopes, expiresAt, createdAt: event.occurredAt };
    }));
  }

  async list(repoId: string) {
    const { rows } = await this.db.query<ApiKeyRow>(`${SELECT} WHERE k.repo_id = $1 ORDER BY k.created_at DESC`, [repoId]);
    return { items: rows.map(toApiKey) };
  }

  async revoke(repoId: string, id: string, context: RequestContext) {
    await this.store.execute((tx) => this.revokeIn(tx, id, repoId, 'admin', context));
    await this.invalidator.invalidate({ credentialIds: [id] });
    return toApiKey(await this.row(this.db, id, repoId));
  }

  async revokeIn(tx: Tx, id: string, repoId: string | null, reason: 'admin' | 'leaked', context: RequestContext): Promise<boolean> {
    const row = await this.row(tx, id, repoId);
    if (row.revoked_at) return false;
    const version = (await this.store.readStream(tx, keyStream(id))).length;
    await this.store.append(tx, keyStream(id), version, [{ contract: IdentityEvents.apiKeyRevoked, data: { keyId: id, repoId: row.repo_id, reason }, subject: { kind: 'api_key', id } }], context);
    return true;
  }

  private async row(tx: Tx, id: string, repoId: string | null): Promise<ApiKeyRow> {
    const { rows } = await tx.query<ApiKeyRow>(`${SELECT} WHERE k.id = $1 AND ($2::uuid IS NULL OR k.repo_id = $2)`, [id, repoId]);
    if (!rows[0]) throw new GantryError('not_found', 'no such key');
    return rows[0];
  }
}
