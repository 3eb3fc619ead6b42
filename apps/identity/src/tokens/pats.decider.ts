import { GantryError, IdentityEvents, ROLE_SCOPES, type Role, type Scope } from '#contracts';
import type { NewEvent, StoredEvent } from '#platform';

export interface PatState {
  exists: boolean;
  userId: string | null;
  revoked: boolean;
  version: number;
}

export const initialPatState: PatState = { exists: false, userId: null, revoked: false, version: 0 };

export interface PatPolicy {
  maxDays: number;
  allowNoExpiry: boolean;
}

export interface CreatePat {
  tokenId: string;
  userId: string;
  userRole: Role;
  name: string;
  prefix: string;
  scopes: Scope[];
  expiresInDays: number | null;
  rotatedFrom: string | null;
  /** Rotation: the old token's expiry, kept (so rotating never extends a token's life). */
  keptExpiresAt?: string | null;
  now: Date;
}

/** Creating a token: scopes within the user's role, lifetime within the installation's policy. */
export function decideCreatePat(command: CreatePat, policy: PatPolicy): NewEvent[] {
  const allowed = ROLE_SCOPES[command.userRole];
  const denied = command.scopes.filter((scope) => !allowed.includes(scope));
  if (denied.length > 0) throw new GantryError('invalid_scope', `scopes not allowed for a ${command.userRole}: ${denied.join(', ')}`, 'scopes');
  const expiresAt = command.keptExpiresAt === undefined ? chosenExpiry(command, policy) : keptExpiry(command.keptExpiresAt, command.now, policy);
  const { tokenId, userId, name, prefix, scopes, rotatedFrom } = command;
  return [{ contract: IdentityEvents.patCreated, data: { tokenId, userId, name, prefix, scopes, expiresAt, rotatedFrom }, subject: { kind: 'pat', id: tokenId } }];
}

function chosenExpiry(command: CreatePat, policy: PatPolicy): string | null {
  if (command.expiresInDays === null && !policy.allowNoExpiry) {
    throw new GantryError('invalid_request', 'expiresInDays: tokens without expiry are not allowed on this installation', 'expiresInDays');
  }
  if (command.expiresInDays !== null && command.expiresInDays > policy.maxDays) {
    throw new GantryError('invalid_request', `expiresInDays: at most ${policy.maxDays}`, 'expiresInDays');
  }
  return command.expiresInDays === null ? null : new Date(command.now.getTime() + command.expiresInDays * 86_400_000).toISOString();
}

/** Rotation keeps the old expiry, within today's policy (a lowered maximum or no-expiry turned off caps it). */
function keptExpiry(kept: string | null, now: Date, policy: PatPolicy): string | null {
  if (kept !== null && Date.parse(kept) <= now.getTime()) throw new GantryError('conflict', 'an expired token cannot be rotated');
  const longest = now.getTime() + policy.maxDays * 86_400_000;
  if (kept === null) return policy.allowNoExpiry ? null : new Date(longest).toISOString();
  return Date.parse(kept) > longest ? new Date(longest).toISOString() : kept;
}

export function decideRevokePat(state: PatState, tokenId: string, reason: 'owner' | 'admin' | 'rotated' | 'leaked'): NewEvent[] {
  if (!state.exists) throw new GantryError('not_found', 'no such token');
  if (state.revoked) return [];
  return [{ contract: IdentityEvents.patRevoked, data: { tokenId, userId: state.userId!, reason }, subject: { kind: 'pat', id: tokenId } }];
}

export function evolvePat(state: PatState, event: Pick<StoredEvent, 'type' | 'version' | 'data'>): PatState {
  switch (event.type) {
    case IdentityEvents.patCreated.type:
      return { ...state, exists: true, userId: (event.data as { userId: string }).userId, version: event.version };
    case IdentityEvents.patRevoked.type:
      return { ...state, revoked: true, version: event.version };
    default:
      return { ...state, version: event.version };
  }
}

export const patStream = (tokenId: string) => `pat-${tokenId}`;
