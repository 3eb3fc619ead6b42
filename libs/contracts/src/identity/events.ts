import { z } from 'zod';
import { defineEvent } from '../kernel';
import { RoleSchema, ScopeSchema } from '../principal';
import { RepoRoleSchema, VisibilitySchema } from './repos';

const at = z.iso.datetime({ offset: true });

/**
 * Identity's events. No event carries a raw token, a password or a password hash: secrets live in
 * identity's own tables beside the events, written in the same transaction.
 */
export const IdentityEvents = {
  userCreated: defineEvent('identity.user.created', 1, z.strictObject({
    userId: z.string(), username: z.string(), role: RoleSchema,
    displayName: z.string().nullable().optional(),
    /** True for the first admin created from configuration on an empty installation. */
    bootstrap: z.boolean(),
  })),
  userUpdated: defineEvent('identity.user.updated', 1, z.strictObject({
    userId: z.string(), role: RoleSchema.optional(), displayName: z.string().nullable().optional(),
  })),
  /** Ends every session of the user; PATs stay but are refused while the user is deactivated. */
  userDeactivated: defineEvent('identity.user.deactivated', 1, z.strictObject({ userId: z.string() })),
  userActivated: defineEvent('identity.user.activated', 1, z.strictObject({ userId: z.string() })),
  userDeleted: defineEvent('identity.user.deleted', 1, z.strictObject({ userId: z.string(), username: z.string() })),
  /** Ends every session of the user but `keptSessionId` (the one that changed it, if any). */
  passwordChanged: defineEvent('identity.user.password_changed', 1, z.strictObject({
    userId: z.string(), bySelf: z.boolean(), keptSessionId: z.string().nullable(),
  })),
  sessionStarted: defineEvent('identity.session.started', 1, z.strictObject({ sessionId: z.string(), userId: z.string(), expiresAt: at })),
  sessionEnded: defineEvent('identity.session.ended', 1, z.strictObject({ sessionId: z.string(), userId: z.string(), reason: z.enum(['logout']) })),
  signingKeyCreated: defineEvent('identity.signing_key.created', 1, z.strictObject({ kid: z.string(), alg: z.literal('EdDSA') })),
  patCreated: defineEvent('identity.pat.created', 1, z.strictObject({
    tokenId: z.string(), userId: z.string(), name: z.string(), prefix: z.string(), scopes: z.array(ScopeSchema),
    expiresAt: at.nullable(), rotatedFrom: z.string().nullable(),
  })),
  patRevoked: defineEvent('identity.pat.revoked', 1, z.strictObject({
    tokenId: z.string(), userId: z.string(), reason: z.enum(['owner', 'admin', 'rotated', 'leaked', 'user_deleted']),
  })),
  repoCreated: defineEvent('identity.repo.created', 1, z.strictObject({
    repoId: z.string(), ownerId: z.string(), owner: z.string(), name: z.string(), visibility: VisibilitySchema, description: z.string().nullable(),
  })),
  repoUpdated: defineEvent('identity.repo.updated', 1, z.strictObject({
    repoId: z.string(), visibility: VisibilitySchema.optional(), description: z.string().nullable().optional(),
  })),
  repoDeleted: defineEvent('identity.repo.deleted', 1, z.strictObject({ repoId: z.string(), fullName: z.string() })),
  memberSet: defineEvent('identity.repo.member_set', 1, z.strictObject({ repoId: z.string(), userId: z.string(), username: z.string(), role: RepoRoleSchema })),
  memberRemoved: defineEvent('identity.repo.member_removed', 1, z.strictObject({ repoId: z.string(), userId: z.string() })),
  installTokenMinted: defineEvent('identity.install_token.minted', 1, z.strictObject({
    installTokenId: z.string(), labels: z.array(z.string()), description: z.string().nullable(), expiresAt: at,
    /** Whether the runner may add labels at the exchange (absent in events from before: false). */
    allowRunnerLabels: z.boolean().optional(),
  })),
  installTokenExchanged: defineEvent('identity.install_token.exchanged', 1, z.strictObject({ installTokenId: z.string(), runnerId: z.string() })),
  installTokenCancelled: defineEvent('identity.install_token.cancelled', 1, z.strictObject({ installTokenId: z.string() })),
  runnerRegistered: defineEvent('identity.runner.registered', 1, z.strictObject({
    runnerId: z.string(), name: z.string(), labels: z.array(z.string()), installTokenId: z.string(),
  })),
  runnerRevoked: defineEvent('identity.runner.revoked', 1, z.strictObject({ runnerId: z.string(), reason: z.enum(['admin', 'leaked']) })),
  /** A new runner token; the old one stops working. */
  runnerRotated: defineEvent('identity.runner.rotated', 1, z.strictObject({ runnerId: z.string() })),
  apiKeyCreated: defineEvent('identity.api_key.created', 1, z.strictObject({
    keyId: z.string(), repoId: z.string(), name: z.string(), prefix: z.string(), scopes: z.array(z.string()), expiresAt: at.nullable(),
  })),
  apiKeyRevoked: defineEvent('identity.api_key.revoked', 1, z.strictObject({ keyId: z.string(), repoId: z.string(), reason: z.enum(['admin', 'leaked']) })),
  /** Audit of a leaked-credential report: how many were submitted and which credentials it killed. */
  /** A CI run's token, issued as the run starts (never the token or its hash). */
  ciTokenIssued: defineEvent('identity.ci_token.issued', 1, z.strictObject({ tokenId: z.string(), runId: z.string(), repoId: z.string(), expiresAt: at })),
  /** Revoked when its run ended (consumed from events.ci.run.ended) or its repository was deleted. */
  ciTokenRevoked: defineEvent('identity.ci_token.revoked', 1, z.strictObject({ tokenId: z.string(), runId: z.string(), reason: z.enum(['run_ended', 'repo_deleted']) })),
  /**
   * An invalidation some live gateways did not acknowledge in time: they may serve a dropped
   * credential until they notice (they flush after a stall or a missed identity heartbeat).
   */
  invalidationUnacknowledged: defineEvent('identity.gateway.invalidation_unacknowledged', 1, z.strictObject({
    gatewayIds: z.array(z.string()), credentials: z.number().int(), users: z.number().int(), repos: z.number().int(),
  })),
  credentialRevokedAsLeaked: defineEvent('identity.credential.revoked_as_leaked', 1, z.strictObject({
    submitted: z.number().int(), revoked: z.array(z.strictObject({ kind: z.enum(['pat', 'runner', 'api_key']), id: z.string() })),
  })),
} as const;
