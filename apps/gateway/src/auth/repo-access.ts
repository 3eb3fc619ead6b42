import { Inject, Injectable } from '@nestjs/common';
import { GantryError, IdentityRequests, type Principal, type Repo, type RepoRole } from '#contracts';
import { RpcClient } from '#platform';

const RANK: Record<RepoRole, number> = { read: 1, write: 2, admin: 3 };

export interface RepoGrant {
  repo: Repo;
  role: RepoRole | null;
}

/**
 * The caller's standing in `owner/repo`. A private repository the caller cannot read is a 404 (its
 * existence is not revealed); a readable one they lack the role for is a 403.
 */
@Injectable()
export class RepoAccess {
  constructor(@Inject(RpcClient) private readonly rpc: RpcClient) {}

  /**
   * The repository and the caller's effective role in it (`expectedId`: it must be that one). A credential bound to another repository
   * gets 403 wrong_repository (404 when that repository is private: its existence stays hidden).
   */
  async lookup(principal: Principal, owner: string, name: string, expectedId: string | null = null): Promise<RepoGrant> {
    const caller = { userId: principal.userId, instanceAdmin: principal.role === 'admin' && principal.repoId === null, boundRepoId: principal.repoId };
    const grant = await this.rpc.request(IdentityRequests.repos.access, { owner, name, caller });
    const hidden = new GantryError('not_found', `no repository ${owner}/${name}`);
    // A run of a deleted repository whose name was taken again belongs to nobody who can see it now.
    if (expectedId !== null && grant.repo.id !== expectedId) throw new GantryError('not_found', 'no such run');
    if (principal.repoId !== null && principal.repoId !== grant.repo.id) {
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
}
