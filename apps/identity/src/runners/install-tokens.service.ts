import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { GantryError, generateToken, hashToken, IdentityEvents, IdentityRequests } from '#contracts';
import { Database, EventStore, Idempotency, type RequestContext, type Tx } from '#platform';
import { IDENTITY_CONFIG, type IdentityConfig } from '../config';

export interface InstallTokenRow {
  id: string;
  labels: string[];
  description: string | null;
  allow_runner_labels: boolean;
  created_at: Date;
  expires_at: Date;
  used_at: Date | null;
  runner_id: string | null;
  cancelled_at: Date | null;
}

export const installTokenStream = (id: string) => `install-token-${id}`;

export function toInstallToken(row: InstallTokenRow) {
  const status = row.cancelled_at ? 'cancelled' : row.used_at ? 'used' : row.expires_at.getTime() <= Date.now() ? 'expired' : 'pending';
  return {
    id: row.id, status, labels: row.labels, description: row.description, allowRunnerLabels: row.allow_runner_labels, createdAt: row.created_at.toISOString(),
    expiresAt: row.expires_at.toISOString(), usedAt: row.used_at?.toISOString() ?? null, runnerId: row.runner_id,
  } as const;
}

/** One-time install tokens minted by admins; exchanged (once) for a runner token. */
@Injectable()
export class InstallTokensService {
  constructor(
    private readonly db: Database,
    private readonly store: EventStore,
    private readonly idempotency: Idempotency,
    @Inject(IDENTITY_CONFIG) private readonly config: IdentityConfig,
  ) {}

  async mint(body: { labels?: string[]; description?: string; allowRunnerLabels?: boolean }, context: RequestContext) {
    const id = randomUUID();
    const token = generateToken('install');
    const expiresAt = new Date(Date.now() + this.config.GANTRY_INSTALL_TOKEN_TTL_SECONDS * 1000).toISOString();
    const data = { installTokenId: id, labels: body.labels ?? [], description: body.description ?? null, expiresAt, allowRunnerLabels: body.allowRunnerLabels ?? false };
    return this.store.execute((tx) => this.idempotency.once(tx, context, { secret: true, response: IdentityRequests.runners.mintInstallToken.response }, async () => {
      const [event] = await this.store.append(tx, installTokenStream(id), 0, [{ contract: IdentityEvents.installTokenMinted, data, subject: { kind: 'install_token', id } }], context);
      await tx.query(`INSERT INTO token_hashes (hash, kind, token_id) VALUES (decode($1, 'hex'), 'install', $2)`, [hashToken(token), id]);
      return { id, token, expiresAt, createdAt: event.occurredAt };
    }));
  }

  async list() {
    const { rows } = await this.db.query<InstallTokenRow>('SELECT * FROM install_tokens ORDER BY created_at DESC');
    return { items: rows.map(toInstallToken) };
  }

  /** Cancels a pending token; a used, expired or cancelled one is a 409. */
  async cancel(id: string, context: RequestContext) {
    await this.store.execute(async (tx) => {
      const row = await this.row(tx, id, true);
      if (toInstallToken(row).status !== 'pending') throw new GantryError('conflict', `install token is ${toInstallToken(row).status}`);
      await this.store.append(tx, installTokenStream(id), 1, [{ contract: IdentityEvents.installTokenCancelled, data: { installTokenId: id }, subject: { kind: 'install_token', id } }], context);
    });
    return toInstallToken(await this.row(this.db, id));
  }

  /**
   * Claims the token in one atomic statement: of N concurrent exchanges exactly one row update
   * succeeds (the others re-check the WHERE after the winner commits and match nothing).
   */
  async claim(tx: Tx, hash: string, runnerId: string): Promise<InstallTokenRow> {
    const { rows } = await tx.query<InstallTokenRow>(
      `UPDATE install_tokens it SET used_at = now(), runner_id = $2
         FROM token_hashes th
        WHERE th.hash = decode($1, 'hex') AND th.kind = 'install' AND it.id = th.token_id
          AND it.used_at IS NULL AND it.cancelled_at IS NULL AND it.expires_at > now()
        RETURNING it.*`,
      [hash, runnerId],
    );
    if (rows[0]) return rows[0];
    const { rows: found } = await tx.query<InstallTokenRow>(
      `SELECT it.* FROM install_tokens it JOIN token_hashes th ON th.token_id = it.id AND th.kind = 'install' WHERE th.hash = decode($1, 'hex')`,
      [hash],
    );
    if (found[0]?.used_at) throw new GantryError('install_token_already_used', 'this install token has already been used');
    throw new GantryError('invalid_install_token', 'unknown or expired install token');
  }

  private async row(tx: Tx, id: string, lock = false): Promise<InstallTokenRow> {
    const { rows } = await tx.query<InstallTokenRow>(`SELECT * FROM install_tokens WHERE id = $1${lock ? ' FOR UPDATE' : ''}`, [id]);
    if (!rows[0]) throw new GantryError('not_found', 'no such install token');
    return rows[0];
  }
}
