import { GantryError, IdentityEvents, type Role } from '#contracts';
import type { NewEvent, StoredEvent } from '#platform';

/** A user's state, folded from the events of its stream. */
export interface UserState {
  exists: boolean;
  deleted: boolean;
  userId: string | null;
  username: string | null;
  role: Role | null;
  active: boolean;
  version: number;
}

export const initialUserState: UserState = { exists: false, deleted: false, userId: null, username: null, role: null, active: false, version: 0 };

export type UserCommand =
  | { type: 'create'; userId: string; username: string; role: Role; displayName: string | null; bootstrap: boolean }
  | { type: 'update'; role?: Role; displayName?: string | null }
  | { type: 'deactivate' }
  | { type: 'activate' }
  | { type: 'delete' }
  | { type: 'change_password'; bySelf: boolean; keptSessionId: string | null };

/** Facts a command needs besides the stream: who acts, and how many active admins there are. */
export interface UserContext {
  actorUserId: string | null;
  activeAdmins: number;
}

const subject = (state: UserState) => ({ kind: 'user', id: state.userId! });

/** Pure rules: the events a command produces from the current state, or a domain error. */
export function decideUser(state: UserState, command: UserCommand, context: UserContext): NewEvent[] {
  if (command.type === 'create') {
    if (state.exists) throw new GantryError('conflict', 'user already exists');
    const { userId, username, role, displayName, bootstrap } = command;
    return [{ contract: IdentityEvents.userCreated, data: { userId, username, role, displayName, bootstrap }, subject: { kind: 'user', id: userId } }];
  }
  if (!state.exists || state.deleted) throw new GantryError('not_found', 'no such user');
  const userId = state.userId!;
  const isSelf = context.actorUserId === userId;
  const removesAdmin = state.role === 'admin' && state.active;
  const guardLastAdmin = () => {
    if (removesAdmin && context.activeAdmins <= 1) throw new GantryError('last_admin', 'this would leave no active admin');
  };
  switch (command.type) {
    case 'update': {
      if (command.role === 'member') guardLastAdmin();
      const data = { userId, ...(command.role !== undefined && command.role !== state.role ? { role: command.role } : {}), ...('displayName' in command ? { displayName: command.displayName } : {}) };
      return Object.keys(data).length > 1 ? [{ contract: IdentityEvents.userUpdated, data, subject: subject(state) }] : [];
    }
    case 'deactivate':
      if (isSelf) throw new GantryError('cannot_modify_self', 'you cannot deactivate yourself');
      if (!state.active) return [];
      guardLastAdmin();
      return [{ contract: IdentityEvents.userDeactivated, data: { userId }, subject: subject(state) }];
    case 'activate':
      return state.active ? [] : [{ contract: IdentityEvents.userActivated, data: { userId }, subject: subject(state) }];
    case 'delete':
      if (isSelf) throw new GantryError('cannot_modify_self', 'you cannot delete yourself');
      guardLastAdmin();
      return [{ contract: IdentityEvents.userDeleted, data: { userId, username: state.username! }, subject: subject(state) }];
    case 'change_password':
      // Your own password is changed with the current one (PUT /api/v1/user/password, a session),
      // never through the admin route: a stolen users:admin token must not take over its owner.
      if (isSelf && !command.bySelf) throw new GantryError('cannot_modify_self', 'set your own password with PUT /api/v1/user/password (needs the current password and a login session)');
      return [{ contract: IdentityEvents.passwordChanged, data: { userId, bySelf: command.bySelf, keptSessionId: command.keptSessionId }, subject: subject(state) }];
    default: {
      const unknown: never = command;
      throw new Error(`unknown command ${JSON.stringify(unknown)}`);
    }
  }
}

export function evolveUser(state: UserState, event: Pick<StoredEvent, 'type' | 'version' | 'data'>): UserState {
  const next = { ...state, version: event.version };
  switch (event.type) {
    case IdentityEvents.userCreated.type: {
      const data = event.data as { userId: string; username: string; role: Role };
      return { ...next, exists: true, active: true, userId: data.userId, username: data.username, role: data.role };
    }
    case IdentityEvents.userUpdated.type: {
      const data = event.data as { role?: Role };
      return data.role ? { ...next, role: data.role } : next;
    }
    case IdentityEvents.userDeactivated.type:
      return { ...next, active: false };
    case IdentityEvents.userActivated.type:
      return { ...next, active: true };
    case IdentityEvents.userDeleted.type:
      return { ...next, deleted: true, active: false };
    default:
      return next;
  }
}

export const userStream = (userId: string) => `user-${userId}`;
