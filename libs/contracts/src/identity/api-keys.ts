import { z } from 'zod';
import { defineRequest } from '../kernel';
import { storableString } from '../strings';

/** What a repository API key may hold: never more than these. */
export const API_KEY_SCOPES = ['repo:read', 'assets:write', 'runs:write'] as const;
export const ApiKeyScopeSchema = z.enum(API_KEY_SCOPES);

export const CreateApiKeyBodySchema = z.strictObject({
  name: storableString().min(1).max(100),
  scopes: z.array(ApiKeyScopeSchema).min(1).refine((s) => new Set(s).size === s.length, 'duplicate scope'),
  /** Omitted or null: the key does not expire. */
  expiresInDays: z.number().int().min(1).max(366).nullable().optional(),
});

export const ApiKeySchema = z.strictObject({
  id: z.uuid(),
  repoId: z.uuid(),
  name: z.string(),
  prefix: z.string(),
  scopes: z.array(ApiKeyScopeSchema),
  createdAt: z.iso.datetime({ offset: true }),
  expiresAt: z.iso.datetime({ offset: true }).nullable(),
  lastUsedAt: z.iso.datetime({ offset: true }).nullable(),
  revokedAt: z.iso.datetime({ offset: true }).nullable(),
});

export const CreatedApiKeySchema = z.strictObject({
  id: z.uuid(),
  name: z.string(),
  /** The `gtk_` key, shown only here: `token`, as every other credential's; `key` is the same, kept for old clients. */
  token: z.string(),
  key: z.string(),
  prefix: z.string(),
  scopes: z.array(ApiKeyScopeSchema),
  expiresAt: z.iso.datetime({ offset: true }).nullable(),
  createdAt: z.iso.datetime({ offset: true }),
});

export const ApiKeyRequests = {
  create: defineRequest('identity.api_key.create.v1', { request: CreateApiKeyBodySchema.extend({ repoId: z.uuid() }), response: CreatedApiKeySchema }),
  list: defineRequest('identity.api_key.list.v1', { request: z.strictObject({ repoId: z.uuid() }), response: z.strictObject({ items: z.array(ApiKeySchema) }) }),
  revoke: defineRequest('identity.api_key.revoke.v1', { request: z.strictObject({ repoId: z.uuid(), id: z.uuid() }), response: ApiKeySchema }),
} as const;

/** Leaked-credential revocation: hashes of well-formed `gtp_`/`gtr_`/`gtk_` tokens, never the tokens. */
export const LeakedCredentialsRequests = {
  revoke: defineRequest('identity.credential.revoke_leaked.v1', {
    request: z.strictObject({ hashes: z.array(z.string().regex(/^[0-9a-f]{64}$/)).max(100) }),
    /** How many credentials died (for the gateway's metric; the HTTP answer never says). */
    response: z.strictObject({ revoked: z.number().int().min(0).optional() }),
  }),
} as const;

export const RevokeLeakedBodySchema = z.strictObject({ tokens: z.array(storableString().max(200)).min(1).max(100) });
