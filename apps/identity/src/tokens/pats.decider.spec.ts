import { describe, expect, it } from '@jest/globals';
import { IdentityEvents } from '#contracts';
import { decideCreatePat, decideRevokePat, evolvePat, initialPatState } from './pats.decider';

const policy = { maxDays: 366, allowNoExpiry: false };
const base = {
  tokenId: 't1', userId: 'u1', userRole: 'member' as const, name: 'ci', prefix: 'gtp_abcd',
  scopes: ['repo:read' as const], expiresInDays: 90, rotatedFrom: null, now: new Date('2026-01-01T00:00:00Z'),
};
const code = (fn: () => unknown) => {
  try {
    fn();
    return 'no error';
  } catch (error) {
    return (error as { code: string }).code;
  }
};

describe('PAT decider', () => {
  it('creates a token expiring after the chosen days', () => {
    const [event] = decideCreatePat(base, policy);
    expect(event.contract).toBe(IdentityEvents.patCreated);
    expect(event.data).toMatchObject({ tokenId: 't1', scopes: ['repo:read'], expiresAt: '2026-04-01T00:00:00.000Z' });
  });

  it('a member asking for an admin scope → invalid_scope', () => {
    expect(code(() => decideCreatePat({ ...base, scopes: ['users:admin'] }, policy))).toBe('invalid_scope');
    expect(code(() => decideCreatePat({ ...base, userRole: 'admin', scopes: ['users:admin'] }, policy))).toBe('no error');
  });

  it('no expiry only when the installation allows it; never past the maximum', () => {
    expect(code(() => decideCreatePat({ ...base, expiresInDays: null }, policy))).toBe('invalid_request');
    expect(decideCreatePat({ ...base, expiresInDays: null }, { ...policy, allowNoExpiry: true })[0].data).toMatchObject({ expiresAt: null });
    expect(code(() => decideCreatePat({ ...base, expiresInDays: 30 }, { ...policy, maxDays: 7 }))).toBe('invalid_request');
  });

  it('rotation keeps the old expiry (never extends a life), within today\'s policy; an expired token is not rotated', () => {
    const rotate = (keptExpiresAt: string | null, rules = policy) => decideCreatePat({ ...base, expiresInDays: null, rotatedFrom: 't0', keptExpiresAt }, rules)[0].data;
    expect(rotate('2026-01-20T12:34:56.789Z')).toMatchObject({ expiresAt: '2026-01-20T12:34:56.789Z', rotatedFrom: 't0' });
    expect(rotate('2026-12-31T00:00:00.000Z', { ...policy, maxDays: 7 })).toMatchObject({ expiresAt: '2026-01-08T00:00:00.000Z' });
    expect(rotate(null, { ...policy, allowNoExpiry: true })).toMatchObject({ expiresAt: null });
    expect(rotate(null)).toMatchObject({ expiresAt: '2027-01-02T00:00:00.000Z' });
    expect(code(() => rotate('2025-12-31T23:59:59.000Z'))).toBe('conflict');
  });

  it('revoke: unknown → not_found; twice → nothing more', () => {
    expect(code(() => decideRevokePat(initialPatState, 't1', 'owner'))).toBe('not_found');
    const created = evolvePat(initialPatState, { type: IdentityEvents.patCreated.type, version: 1, data: { userId: 'u1' } });
    expect(decideRevokePat(created, 't1', 'owner')).toHaveLength(1);
    const revoked = evolvePat(created, { type: IdentityEvents.patRevoked.type, version: 2, data: {} });
    expect(decideRevokePat(revoked, 't1', 'owner')).toEqual([]);
  });
});
