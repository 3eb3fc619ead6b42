import { GantryError, IdentityEvents, type Role } from '#contracts';
import type { NewEvent } from '#platform';

/** A user's state, folded from the events of its stream. */
export interface UserState {
  exists: boolean;
  version: number;
}

export const initialUserState: UserState = { exists: false, version: 0 };

export interface CreateUser {
  type: 'create';
  userId: string;
  username: string;
  role: Role;
  bootstrap: boolean;
}

export type UserCommand = CreateUser;

/** Pure rules: the events a command produces from the current state, or a domain error. */
export function decideUser(state: UserState, command: UserCommand): NewEvent[] {
  switch (command.type) {
    case 'create':
      if (state.exists) throw new GantryError('conflict', 'user already exists');
      return [
        {
          contract: IdentityEvents.userCreated,
          data: { userId: command.userId, username: command.username, role: command.role, bootstrap: command.bootstrap },
          subject: { kind: 'user', id: command.userId },
        },
      ];
    default: {
      const unknown: never = command.type;
      throw new Error(`unknown command ${String(unknown)}`);
    }
  }
}

export function evolveUser(state: UserState, event: { type: string; version: number }): UserState {
  switch (event.type) {
    case IdentityEvents.userCreated.type:
      return { exists: true, version: event.version };
    default:
      return { ...state, version: event.version };
  }
}

export const userStream = (userId: string) => `user-${userId}`;
