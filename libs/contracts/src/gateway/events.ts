import { z } from 'zod';
import { defineEvent } from '../kernel';
import { ErrorCodeSchema } from '../errors';

const at = z.iso.datetime({ offset: true });

/**
 * What a refused request presented: a token kind (from its prefix), a session (a JWT), a password
 * (login, password change), `unknown` (something that is no Gantry credential) or `none`.
 */
export const DeniedCredentialKindSchema = z.enum(['pat', 'session', 'runner', 'api_key', 'ci_job', 'install', 'password', 'unknown', 'none']);
export type DeniedCredentialKind = z.infer<typeof DeniedCredentialKindSchema>;

/**
 * One aggregate of refused requests: every refusal with the same reason, client, method, route
 * template and credential kind that one gateway saw in one interval (`windowStart`–`windowEnd`).
 * Never the token, its hash, a password or a username: only the display prefix that token lists
 * show (e.g. `gtp_AbCd`), and only for a well-formed token with a valid checksum.
 */
const DenialAggregateSchema = z.strictObject({
  /** The error code the client got (invalid_token, token_revoked, invalid_credentials, forbidden, rate_limited …). */
  reason: ErrorCodeSchema,
  credentialKind: DeniedCredentialKindSchema,
  /** Display prefix of the first refused token of the window (`gtp_` + 4 characters), or null. */
  credentialPrefix: z.string().regex(/^gt[pirck]_[0-9A-Za-z]{4}$/).nullable(),
  /** True when later refusals of the window carried another display prefix (or none). */
  mixedPrefixes: z.boolean(),
  /** The client: its IPv4 address or IPv6 /64 (as rate limits key it); `*` for the overflow aggregate of a full interval. */
  ip: z.string(),
  method: z.string(),
  /** The route template, e.g. /api/v1/repos/:owner/:repo. */
  route: z.string(),
  /** The request id of the window's first refusal (in the gateway's log and the client's X-Request-Id). */
  firstRequestId: z.string(),
  count: z.number().int().positive(),
  windowStart: at,
  windowEnd: at,
});

/**
 * The gateway's security events: refused authentications and authorizations, and rate-limited
 * requests, aggregated per (reason, client, method, route, credential kind) and interval so that a
 * flood of refusals cannot flood the stream. Published by each gateway straight to JetStream
 * (the gateway has no database): outside the services' audit hash chains (no service/seq/prevHash/hash).
 */
export const GatewayEvents = {
  /** 401 and 403 answers of the gateway (authentication and authorization refused). */
  authDenied: defineEvent('gateway.auth.denied', 1, DenialAggregateSchema),
  /** 429 answers (reason always rate_limited). */
  rateLimited: defineEvent('gateway.request.rate_limited', 1, DenialAggregateSchema),
} as const;
export type DenialAggregate = z.infer<typeof DenialAggregateSchema>;
