import { describe, expect, it } from '@jest/globals';
import { IdentityEvents } from '#contracts';
import { decideUser, evolveUser, initialUserState, type UserCommand, type UserContext, type UserState } from './users.decider';

const created = { type: IdentityEvents.userCreated.type, version: 1, data: { userId: 'u1', username: 'alice', role: 'admin' } };
const given = (...events: { type: string; version: number; data: unknown }[]): UserState => events.reduce(evolveUser, initialUserState);
const ctx = (overrides: Partial<UserContext> = {}): UserContext => ({ actorUserId: 'someone-else', activeAdmins: 2, ...overrides });
const types = (state: UserState, command: UserCommand, context = ctx()) => decideUser(state, command, context).map((e) => e.contract.type);
const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return 'no error';
};

describe('user decider (given events, when command, then events)', () => {
  it('create on an empty stream → user.created; twice → conflict', () => {
    const command = { type: 'create', userId: 'u1', username: 'alice', role: 'admin', displayName: null, bootstrap: true } as const;
    expect(types(initialUserState, command)).toEqual(['identity.user.created']);
    expect(code(() => decideUser(given(created), command, ctx()))).toBe('conflict');
  });

  it('commands on a missing or deleted user → not_found', () => {
    expect(code(() => decideUser(initialUserState, { type: 'activate' }, ctx()))).toBe('not_found');
    const deleted = given(created, { type: IdentityEvents.userDeleted.type, version: 2, data: {} });
    expect(code(() => decideUser(deleted, { type: 'deactivate' }, ctx()))).toBe('not_found');
  });

  it('demoting, deactivating or deleting the last active admin → last_admin', () => {
    const last = ctx({ activeAdmins: 1 });
    expect(code(() => decideUser(given(created), { type: 'update', role: 'member' }, last))).toBe('last_admin');
    expect(code(() => decideUser(given(created), { type: 'deactivate' }, last))).toBe('last_admin');
    expect(code(() => decideUser(given(created), { type: 'delete' }, last))).toBe('last_admin');
    expect(types(given(created), { type: 'update', role: 'member' })).toEqual(['identity.user.updated']);
  });

  it('deactivating or deleting yourself → cannot_modify_self', () => {
    const self = ctx({ actorUserId: 'u1' });
    expect(code(() => decideUser(given(created), { type: 'deactivate' }, self))).toBe('cannot_modify_self');
    expect(code(() => decideUser(given(created), { type: 'delete' }, self))).toBe('cannot_modify_self');
  });

  it('setting your own password through the admin route → cannot_modify_self; with your current one it works', () => {
    const self = ctx({ actorUserId: 'u1' });
    expect(code(() => decideUser(given(created), { type: 'change_password', bySelf: false, keptSessionId: null }, self))).toBe('cannot_modify_self');
    expect(types(given(created), { type: 'change_password', bySelf: true, keptSessionId: 's1' }, self)).toEqual(['identity.user.password_changed']);
    expect(types(given(created), { type: 'change_password', bySelf: false, keptSessionId: null })).toEqual(['identity.user.password_changed']);
  });

  it('deactivate and activate are idempotent', () => {
    const deactivated = given(created, { type: IdentityEvents.userDeactivated.type, version: 2, data: {} });
    expect(types(deactivated, { type: 'deactivate' })).toEqual([]);
    expect(types(deactivated, { type: 'activate' })).toEqual(['identity.user.activated']);
    expect(types(given(created), { type: 'activate' })).toEqual([]);
  });

  it('an inactive admin does not count: deactivating them again or demoting needs no guard', () => {
    const deactivated = given(created, { type: IdentityEvents.userDeactivated.type, version: 2, data: {} });
    expect(types(deactivated, { type: 'update', role: 'member' }, ctx({ activeAdmins: 1 }))).toEqual(['identity.user.updated']);
  });

  it('an update that changes nothing emits nothing', () => {
    expect(types(given(created), { type: 'update', role: 'admin' })).toEqual([]);
  });
});
