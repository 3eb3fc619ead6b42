import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { GantryError, generateToken, hashToken, IdentityEvents, IdentityRequests } from '#contracts';
import { Database, EventStore, Idempotency, type RequestContext, type Tx } from '#platform';
import { GatewayInvalidator } from '../auth/gateway-invalidator';
import { InstallTokensService, installTokenStream } from './install-tokens.service';

interface RunnerRow {
  id: string;
  name: string;
  labels: string[];
  created_at: Date;
  last_seen_at: Date | null;
  revoked_at: Date | null;
}

const runnerStream = (id: string) => `runner-${id}`;
const subject = (id: string) => ({ kind: 'runner', id });

function toRunner(row: RunnerRow) {
  return {
    id: row.id, name: row.name, labels: row.labels, createdAt: row.created_at.toISOString(),
    lastSeenAt: row.last_seen_at?.toISOString() ?? null, revokedAt: row.revoked_at?.toISOString() ?? null,
  };
}

/** Build machines: registered by exchanging an install token, then known by their runner token. */
@Injectable()
export class RunnersService {
  constructor(
    private readonly db: Database,
    private readonly store: EventStore,
    private readonly installTokens: InstallTokensService,
    private readonly invalidator: GatewayInvalidator,
    private readonly idempotency: Idempotency,
  ) {}

  /**
   * Install token (as its hash) → a new runner and its `gtr_` token, in one transaction. A refusal
   * rolls the claim back: the install token stays usable.
   */
  async exchange(hash: string, runnerName: string, requested: string[], context: RequestContext) {
    const runnerId = randomUUID();
    const token = generateToken('runner');
    const labels = await this.db.transaction(async (tx) => {
      const claimed = await this.installTokens.claim(tx, hash, runnerId);
      // A runner's labels decide which runs it may take: its own only when the admin allowed them.
      const extra = requested.filter((label) => !claimed.labels.includes(label));
      if (extra.length > 0 && !claimed.allow_runner_labels) {
        throw new GantryError('forbidden', `labels: this install token does not let the runner add labels (${extra.join(', ')}); mint one with allowRunnerLabels: true`, 'labels');
      }
      const labels = [...new Set([...claimed.labels, ...requested])];
      const actor = { ...context, actor: { kind: 'runner' as const, id: runnerId, name: runnerName } };
      await this.store.append(tx, installTokenStream(claimed.id), 1, [
        { contract: IdentityEvents.installTokenExchanged, data: { installTokenId: claimed.id, runnerId }, subject: { kind: 'install_token', id: claimed.id } },
      ], actor);
      await this.store.append(tx, runnerStream(runnerId), 0, [
        { contract: IdentityEvents.runnerRegistered, data: { runnerId, name: runnerName, labels, installTokenId: claimed.id }, subject: subject(runnerId) },
      ], actor);
      await tx.query(`INSERT INTO token_hashes (hash, kind, token_id) VALUES (decode($1, 'hex'), 'runner', $2)`, [hashToken(token), runnerId]);
      return labels;
    });
    return { token, runnerId, runnerName, labels };
  }

  async list() {
    const { rows } = await this.db.query<RunnerRow>('SELECT * FROM runners ORDER BY created_at DESC');
    return { items: rows.map(toRunner) };
  }

  async get(id: string, tx: Tx = this.db) {
    const { rows } = await tx.query<RunnerRow>('SELECT * FROM runners WHERE id = $1', [id]);
    if (!rows[0]) throw new GantryError('not_found', 'no such runner');
    return toRunner(rows[0]);
  }

  async revoke(id: string, reason: 'admin' | 'leaked', context: RequestContext) {
    await this.store.execute(async (tx) => this.revokeIn(tx, id, reason, context));
    await this.invalidator.invalidate({ credentialIds: [id] });
    return this.get(id);
  }

  async revokeIn(tx: Tx, id: string, reason: 'admin' | 'leaked', context: RequestContext): Promise<boolean> {
    const runner = await this.get(id, tx);
    if (runner.revokedAt) return false;
    const version = (await this.store.readStream(tx, runnerStream(id))).length;
    await this.store.append(tx, runnerStream(id), version, [{ contract: IdentityEvents.runnerRevoked, data: { runnerId: id, reason }, subject: subject(id) }], context);
    return true;
  }

  /** A new runner token; the old one is refused everywhere once this returns. */
  async rotate(id: string, context: RequestContext) {
    const token = generateToken('runner');
    const rotated = await this.store.execute((tx) => this.idempotency.once(tx, context, { secret: true, response: IdentityRequests.runners.rotate.response }, async () => {
      const runner = await this.get(id, tx);
      if (runner.revokedAt) throw new GantryError('conflict', 'a revoked runner cannot be rotated');
      const version = (await this.store.readStream(tx, runnerStream(id))).length;
      await this.store.append(tx, runnerStream(id), version, [{ contract: IdentityEvents.runnerRotated, data: { runnerId: id }, subject: subject(id) }], context);
      // The old token's hash is kept aside: presenting it is then "revoked", not "unknown".
      await tx.query(`INSERT INTO retired_token_hashes (hash, kind, token_id) SELECT hash, kind, token_id FROM token_hashes WHERE kind = 'runner' AND token_id = $1`, [id]);
      await tx.query(`UPDATE token_hashes SET hash = decode($1, 'hex') WHERE kind = 'runner' AND token_id = $2`, [hashToken(token), id]);
      return { token, runnerId: id, runnerName: runner.name, labels: runner.labels };
    }));
    await this.invalidator.invalidate({ credentialIds: [id] });
    return rotated;
  }

  /** Liveness from the runner itself: a read-model field, not an event. */
  async heartbeat(id: string) {
    await this.db.query('UPDATE runners SET last_seen_at = now() WHERE id = $1', [id]);
    return this.get(id);
  }
}
