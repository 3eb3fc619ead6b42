import { z } from 'zod';
import { defineRequest, defineSignal } from '../kernel';
import { PrincipalSchema, RoleSchema } from '../principal';
import { PingResponseSchema } from '../health';
import { storableString } from '../strings';

/** HTTP body of `POST /api/v1/auth/login`. */
export const LoginBodySchema = z.strictObject({
  username: storableString().min(1).max(39),
  password: z.string().min(1).max(1024),
});
export type LoginBody = z.infer<typeof LoginBodySchema>;

export const LoginResponseSchema = z.strictObject({
  token: z.string(),
  expiresAt: z.iso.datetime(),
  user: z.strictObject({ id: z.string(), username: z.string(), role: RoleSchema }),
});

/**
 * What the gateway asks identity to resolve: a session (already signature-checked by the gateway)
 * or the SHA-256 (hex) of an opaque token. A raw token never leaves the gateway.
 */
export const CredentialRefSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('session'), sessionId: storableString(), userId: storableString() }),
  z.strictObject({ kind: z.literal('token'), hash: z.string().regex(/^[0-9a-f]{64}$/) }),
]);
export type CredentialRef = z.infer<typeof CredentialRefSchema>;

const Empty = z.strictObject({});

export const SessionRequests = {
  ping: defineRequest('identity.health.ping.v1', { request: Empty, response: PingResponseSchema }),
  login: defineRequest('identity.auth.login.v1', { request: LoginBodySchema, response: LoginResponseSchema }),
  logout: defineRequest('identity.auth.logout.v1', { request: z.strictObject({ sessionId: storableString() }), response: Empty }),
  /** The public half of the session signing keys, as a JWK set. */
  jwks: defineRequest('identity.auth.jwks.v1', {
    request: Empty,
    response: z.strictObject({ keys: z.array(z.record(z.string(), z.unknown())) }),
  }),
  /** Credential → principal, with the user's current role and state. Unknown/revoked/expired → 401 codes. */
  resolve: defineRequest('identity.auth.resolve.v1', { request: z.strictObject({ credential: CredentialRefSchema }), response: PrincipalSchema }),
  /** Batched last-use records from a gateway (at most one per token a minute), no event each. */
  touch: defineRequest('identity.auth.touch.v1', {
    request: z.strictObject({
      uses: z.array(z.strictObject({ credentialId: storableString(), at: z.iso.datetime(), ip: storableString().nullable() })).max(10000),
    }),
    response: Empty,
  }),
} as const;

/** Which cached principals (and repository grants) a gateway must drop. `all` flushes everything. */
export const InvalidationSchema = z.strictObject({
  credentialIds: z.array(z.string()).default([]),
  userIds: z.array(z.string()).default([]),
  /** Repositories whose visibility, members or existence changed: cached grants on them go. */
  repoIds: z.array(z.string()).default([]),
  all: z.boolean().default(false),
});
export type Invalidation = z.infer<typeof InvalidationSchema>;

export const GatewaySignals = {
  /** Every gateway announces itself; identity waits for the acks of all it has heard from lately. */
  presence: defineSignal('gateway.presence.heartbeat.v1', z.strictObject({ gatewayId: z.string(), intervalMs: z.number().int().positive() })),
  /** Broadcast to every gateway (no queue group); each replies `{gatewayId}` once it dropped the entries. */
  invalidate: defineSignal('gateway.auth.invalidate.v1', InvalidationSchema),
} as const;

export const InvalidationAckSchema = z.strictObject({ gatewayId: z.string() });

export const IdentitySignals = {
  /**
   * Every identity replica, every interval: a gateway that has heard none for three intervals may
   * have missed invalidations, so it serves no cached credential until it hears one again.
   */
  presence: defineSignal('identity.presence.heartbeat.v1', z.strictObject({ instanceId: z.string(), intervalMs: z.number().int().positive() })),
} as const;

/**
 * How long identity waits for every live gateway to acknowledge an invalidation. A gateway whose
 * event loop stood still for half of it (paused, swapped out) flushes its caches before it serves
 * again (see the gateway's AuthFreshness), so a late ack never leaves a stale entry in use.
 */
export const INVALIDATION_ACK_TIMEOUT_MS = 1000;
