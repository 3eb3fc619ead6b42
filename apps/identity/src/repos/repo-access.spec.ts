import { describe, expect, it } from '@jest/globals';
import { atLeast, roleIn } from './repo-access';

const repo = { id: 'r1', ownerId: 'owner' };
const caller = (overrides: Partial<{ userId: string | null; instanceAdmin: boolean; boundRepoId: string | null }> = {}) => ({ userId: 'u', instanceAdmin: false, boundRepoId: null, ...overrides });

describe('repository roles', () => {
  it('owner and instance admins administer; members have their role; others none', () => {
    expect(roleIn(repo, caller({ userId: 'owner' }), null)).toBe('admin');
    expect(roleIn(repo, caller({ instanceAdmin: true }), null)).toBe('admin');
    expect(roleIn(repo, caller(), 'write')).toBe('write');
    expect(roleIn(repo, caller(), null)).toBeNull();
  });

  it('a credential bound to another repository has no role, whoever owns it', () => {
    expect(roleIn(repo, caller({ userId: 'owner', boundRepoId: 'r2' }), 'admin')).toBeNull();
    expect(roleIn(repo, caller({ userId: null, boundRepoId: 'r1' }), null)).toBe('write');
  });

  it('ranks read < write < admin', () => {
    expect(atLeast('admin', 'write')).toBe(true);
    expect(atLeast('read', 'write')).toBe(false);
    expect(atLeast(null, 'read')).toBe(false);
  });
});
