import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { GantryError, IdentityEvents, IdentityRequests, type Repo, type RepoCaller, type RepoRole, type RequestOf } from '#contracts';
import { Database, EventStore, Idempotency, isUniqueViolation, type NewEvent, type RequestContext, type Tx } from '#platform';
import { GatewayInvalidator } from '../auth/gateway-invalidator';
import { CiTokensService } from '../ci-tokens/ci-tokens.service';
import { UsersQueries } from '../users/users.queries';
import { roleIn } from './repo-access';

interface RepoRow {
  id: string;
  owner_id: string;
  owner: string;
  name: string;
  visibility: Repo['visibility'];
  description: string | null;
  created_at: Date;
}

const repoStream = (repoId: string) => `repo-${repoId}`;
const subject = (repoId: string) => ({ kind: 'repo', id: repoId });

/** Repositories and memberships: identity keeps the authorization data; the gateway enforces it. */
@Injectable()
export class ReposService {
  constructor(
    private readonly db: Database,
    private readonly store: EventStore,
    private readonly users: UsersQueries,
    private readonly ciTokens: CiTokensService,
    private readonly invalidator: GatewayInvalidator,
    private readonly idempotency: Idempotency,
  ) {}

  async access(owner: string, name: string, caller: RepoCaller): Promise<{ repo: Repo; role: RepoRole | null }> {
    const { rows } = await this.db.query<RepoRow & { member_role: RepoRole | null }>(
      `SELECT r.*, m.role AS member_role FROM repos r LEFT JOIN repo_members m ON m.repo_id = r.id AND m.user_id = $3
        WHERE r.owner = $1 AND r.name = $2`,
      [owner, name, caller.userId],
    );
    const row = rows[0];
    if (!row) throw new GantryError('not_found', `no repository ${owner}/${name}`);
    return { repo: toRepo(row), role: roleIn({ id: row.id, ownerId: row.owner_id }, caller, row.member_role) };
  }

  async create(request: RequestOf<typeof IdentityRequests.repos.create>, context: RequestContext): Promise<Repo> {
    const owner = await this.users.get(request.ownerId);
    const repoId = randomUUID();
    const data = { repoId, ownerId: owner.id, owner: owner.username, name: request.name, visibility: request.visibility, description: request.description ?? null };
    return this.store.execute((tx) => this.idempotency.once(tx, context, { secret: false, response: IdentityRequests.repos.create.response }, async () => {
      await this.append(tx, repoId, 0, [{ contract: IdentityEvents.repoCreated, data, subject: subject(repoId) }], context);
      return this.get(repoId, tx);
    })).catch((error: unknown) => {
      if (isUniqueViolation(error, 'repos_owner_name_key')) throw new GantryError('conflict', `repository ${owner.username}/${request.name} already exists`, 'name');
      throw error;
    });
  }

  /** Repositories the caller can see: public ones, their own, those they are a member of (all, for admins). */
  async list(caller: RepoCaller): Promise<{ items: Repo[] }> {
    const { rows } = await this.db.query<RepoRow>(
      `SELECT r.* FROM repos r
        WHERE ($2::uuid IS NULL OR r.id = $2)
          AND ($3 OR r.visibility = 'public' OR r.owner_id = $1
               OR EXISTS (SELECT 1 FROM repo_members m WHERE m.repo_id = r.id AND m.user_id = $1))
        ORDER BY r.owner, r.name`,
      [caller.userId, caller.boundRepoId, caller.instanceAdmin],
    );
    return { items: rows.map(toRepo) };
  }

  async update(request: RequestOf<typeof IdentityRequests.repos.update>, context: RequestContext): Promise<Repo> {
    await this.mutate(request.repoId, () => [{ contract: IdentityEvents.repoUpdated, data: { repoId: request.repoId, ...request.changes }, subject: subject(request.repoId) }], context);
    return this.get(request.repoId);
  }

  /**
   * Its CI job tokens are revoked in the same transaction (its API keys by the projection), and
   * every gateway drops them, and its grants, before this returns.
   */
  async delete(repoId: string, context: RequestContext): Promise<void> {
    const repo = await this.get(repoId);
    await this.mutate(repoId, () => [{ contract: IdentityEvents.repoDeleted, data: { repoId, fullName: repo.fullName }, subject: subject(repoId) }], context, async (tx) => {
      const keys = await tx.query<{ id: string }>('SELECT id FROM api_keys WHERE repo_id = $1', [repoId]);
      return [...(await this.ciTokens.revokeRepoIn(tx, repoId, context)), ...keys.rows.map((row) => row.id)];
    });
  }

  async members(repoId: string): Promise<{ items: { userId: string; username: string; role: RepoRole }[] }> {
    const { rows } = await this.db.query<{ user_id: string; username: string; role: RepoRole }>(
      'SELECT user_id, username, role FROM repo_members WHERE repo_id = $1 ORDER BY username',
      [repoId],
    );
    return { items: rows.map((row) => ({ userId: row.user_id, username: row.username, role: row.role })) };
  }

  async putMember(repoId: string, username: string, role: RepoRole, context: RequestContext) {
    const user = await this.users.byUsername(username);
    if (!user) throw new GantryError('not_found', `no user ${username}`, 'username');
    await this.mutate(repoId, () => [{ contract: IdentityEvents.memberSet, data: { repoId, userId: user.id, username, role }, subject: subject(repoId) }], context);
    return { userId: user.id, username, role };
  }

  async removeMember(repoId: string, username: string, context: RequestContext): Promise<void> {
    const { rows } = await this.db.query<{ user_id: string }>('SELECT user_id FROM repo_members WHERE repo_id = $1 AND username = $2', [repoId, username]);
    if (!rows[0]) throw new GantryError('not_found', `${username} is not a member`, 'username');
    await this.mutate(repoId, () => [{ contract: IdentityEvents.memberRemoved, data: { repoId, userId: rows[0].user_id }, subject: subject(repoId) }], context);
  }

  async get(repoId: string, tx: Tx = this.db): Promise<Repo> {
    const { rows } = await tx.query<RepoRow>('SELECT * FROM repos WHERE id = $1', [repoId]);
    if (!rows[0]) throw new GantryError('not_found', 'no such repository');
    return toRepo(rows[0]);
  }

  /**
   * Appends the repository's next events, then (after commit) has every gateway drop its cached
   * grants on it: a visibility or membership change holds at once. `andThen` runs in the same
   * transaction after the events and returns credentials the gateways must drop too.
   */
  private async mutate(repoId: string, decide: () => NewEvent[], context: RequestContext, andThen?: (tx: Tx) => Promise<string[]>): Promise<void> {
    const credentialIds = await this.store.execute(async (tx) => {
      const stream = await this.store.readStream(tx, repoStream(repoId));
      if (stream.length === 0 || stream.some((e) => e.type === IdentityEvents.repoDeleted.type)) throw new GantryError('not_found', 'no such repository');
      await this.append(tx, repoId, stream[stream.length - 1].version, decide(), context);
      return (await andThen?.(tx)) ?? [];
    });
    await this.invalidator.invalidate({ repoIds: [repoId], credentialIds });
  }

  private async append(tx: Tx, repoId: string, version: number, events: NewEvent[], context: RequestContext): Promise<void> {
    await this.store.append(tx, repoStream(repoId), version, events, context);
  }
}

function toRepo(row: RepoRow): Repo {
  return {
    id: row.id, owner: row.owner, name: row.name, fullName: `${row.owner}/${row.name}`, visibility: row.visibility,
    description: row.description, createdAt: row.created_at.toISOString(),
  };
}
