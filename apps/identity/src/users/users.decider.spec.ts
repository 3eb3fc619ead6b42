import { describe, expect, it } from '@jest/globals';
import { GantryError, IdentityEvents } from '#contracts';
import { decideUser, evolveUser, initialUserState } from './users.decider';

describe('user decider', () => {
  const create = { type: 'create', userId: 'u1', username: 'alice', role: 'admin', bootstrap: true } as const;

  it('given no events, create → user.created', () => {
    const events = decideUser(initialUserState, create);
    expect(events).toEqual([
      { contract: IdentityEvents.userCreated, data: { userId: 'u1', username: 'alice', role: 'admin', bootstrap: true }, subject: { kind: 'user', id: 'u1' } },
    ]);
  });

  it('given user.created, create → conflict', () => {
    const state = evolveUser(initialUserState, { type: IdentityEvents.userCreated.type, version: 1 });
    expect(state).toEqual({ exists: true, version: 1 });
    expect(() => decideUser(state, create)).toThrow(GantryError);
  });
});
