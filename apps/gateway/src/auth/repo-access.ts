import { Inject, Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { GantryError, IdentityRequests, type Invalidation, type Principal, type Repo, type RepoCaller, type RepoRole } from '#contracts';
import { RpcClient } from '#platform';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config';
import { AuthFreshness } from './auth-freshness';

const RANK: Record<RepoRole, number> = { read: 1, write: 2, admin: 3 };

export interface RepoGrant {
  repo: Repo;
  role: RepoRole | null;
}

type Answer = { repo: Repo; role: RepoRole | null };

const ANONYMOUS: RepoCaller = { userId: null, instanceAdmin: false, boundRepoId: null };

/**
 * The caller's standing in `owner/repo`. A private repository the caller cannot read is a 404 (its
 * existence is not revealed); a readable one they lack the role for is a 403.
 *
 * Identity's answers are cached briefly (GANTRY_REPO_CACHE_TTL_MS), so a hot download costs no
 * identity call. Identity invalidates them, like credentials, whenever a repository's visibility,
 * members or existence change, and waits for every gateway's ack: a removed member is refused at
 * once. A lookup in flight during an invalidation is answered but not cached.
 */
@Injectable()
export class RepoAccess {
  private readonly answers: LRUCache<string, Answer>;
  private readonly keysByRepo = new Map<string, Set<string>>();
  private generation = 0;
  private readonly enabled: boolean;

  constructor(
    @Inject(RpcClient) private readonly rpc: RpcClient,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    private readonly freshness: AuthFreshness,
  ) {
    freshness.onStale(() => this.answers.clear());
    this.enabled = config.GANTRY_REPO_CACHE_TTL_MS > 0;
    this.answers = new LRUCache<string, Answer>({
      max: config.GANTRY_AUTH_CACHE_MAX,
      ttl: Math.max(1, config.GANTRY_REPO_CACHE_TTL_MS),
      dispose: (answer, key) => this.keysByRepo.get(answer.repo.id)?.delete(key),
    });
  }

  /**
   * The repository and the caller's effective role in it (`expectedId`: it must be that one). A
   * credential bound to another repository gets 403 wrong_repository (404 when that repository is
   * private: its existence stays hidden). `null`: an anonymous caller.
   */
  async lookup(principal: Principal | null, owner: string, name: string, expectedId: string | null = null): Promise<RepoGrant> {
    const caller = principal ? { userId: principal.userId, instanceAdmin: principal.role === 'admin' && principal.repoId === null, boundRepoId: principal.repoId } : ANONYMOUS;
    const grant = await this.answer(owner, name, caller);
    const hidden = new GantryError('not_found', `no repository ${owner}/${name}`);
    // A run of a deleted repository whose name was taken again belongs to nobody who can see it now.
    if (expectedId !== null && grant.repo.id !== expectedId) throw new GantryError('not_found', 'no such run');
    if (caller.boundRepoId !== null && caller.boundRepoId !== grant.repo.id) {
      if (grant.repo.visibility === 'private') throw hidden;
      throw new GantryError('wrong_repository', 'this credential is bound to another repository');
    }
    const role = grant.role ?? (grant.repo.visibility === 'public' ? 'read' : null);
    if (role === null) throw hidden;
    return { repo: grant.repo, role };
  }

  requireRole(grant: RepoGrant, required: RepoRole): void {
    if (RANK[grant.role!] < RANK[required]) throw new GantryError('forbidden', `needs ${required} access to ${grant.repo.fullName}`);
  }

  invalidate(invalidation: Invalidation): void {
    this.generation++;
    if (invalidation.all) return this.answers.clear();
    for (const repoId of invalidation.repoIds) {
      for (const key of [...(this.keysByRepo.get(repoId) ?? [])]) this.answers.delete(key);
    }
    // A user's role changed or they were deactivated: their grants are keyed by user id.
    for (const userId of invalidation.userIds) {
      for (const key of [...this.answers.keys()]) if (key.includes(`|${userId}|`)) this.answers.delete(key);
    }
  }

  private async answer(owner: string, name: string, caller: RepoCaller): Promise<Answer> {
    const key = `${owner}/${name}|${caller.userId ?? ''}|${caller.instanceAdmin ? 'admin' : ''}|${caller.boundRepoId ?? ''}`;
    const cached = this.freshness.fresh(Date.now());
    const hit = cached ? this.answers.get(key) : undefined;
    if (hit) return hit;
    const generation = this.generation;
    const answer = await this.rpc.request(IdentityRequests.repos.access, { owner, name, caller });
    if (cached && this.enabled && generation === this.generation) {
      this.answers.set(key, answer);
      if (!this.keysByRepo.has(answer.repo.id)) this.keysByRepo.set(answer.repo.id, new Set());
      this.keysByRepo.get(answer.repo.id)!.add(key);
    }
    return answer;
  }
}
