import type { RepoCaller, RepoRole } from '#contracts';

const RANK: Record<RepoRole, number> = { read: 1, write: 2, admin: 3 };

export function atLeast(role: RepoRole | null, required: RepoRole): boolean {
  return role !== null && RANK[role] >= RANK[required];
}

/**
 * A caller's role in a repository. Instance admins and the owner administer it; members have
 * their role; a credential bound to another repository has none here. Public visibility (read for
 * everyone) is applied by the gateway on top of this.
 */
export function roleIn(repo: { id: string; ownerId: string }, caller: RepoCaller, memberRole: RepoRole | null): RepoRole | null {
  if (caller.boundRepoId !== null) return caller.boundRepoId === repo.id ? 'write' : null; // keys never administer
  if (caller.instanceAdmin) return 'admin';
  if (caller.userId !== null && caller.userId === repo.ownerId) return 'admin';
  return memberRole;
}
