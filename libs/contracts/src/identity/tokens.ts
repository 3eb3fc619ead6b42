import { z } from 'zod';
import { defineRequest } from '../kernel';
import { ScopeSchema } from '../principal';
import { storableString } from '../strings';

export const MAX_PAT_DAYS = 366;

export const CreatePatBodySchema = z.strictObject({
  name: storableString().min(1).max(100),
  scopes: z.array(ScopeSchema).min(1).refine((s) => new Set(s).size === s.length, 'duplicate scope'),
  /** 1–366 days; null means no expiry, allowed only when the installation allows it. */
  expiresInDays: z.number().int().min(1).max(MAX_PAT_DAYS).nullable().default(90),
});
export type CreatePatBody = z.infer<typeof CreatePatBodySchema>;

/** `GET /api/v1/admin/tokens?userId=`: one user's tokens, or everyone's. */
export const AdminTokensQuerySchema = z.strictObject({ userId: z.uuid().optional() });

/** A token as lists show it: never the token or its hash. */
export const PatSchema = z.strictObject({
  id: z.uuid(),
  userId: z.uuid(),
  name: z.string(),
  prefix: z.string(),
  scopes: z.array(ScopeSchema),
  createdAt: z.iso.datetime({ offset: true }),
  expiresAt: z.iso.datetime({ offset: true }).nullable(),
  lastUsedAt: z.iso.datetime({ offset: true }).nullable(),
  lastUsedIp: z.string().nullable(),
  revokedAt: z.iso.datetime({ offset: true }).nullable(),
});
export type Pat = z.infer<typeof PatSchema>;

/** The one response that carries the raw token. */
export const CreatedPatSchema = z.strictObject({
  id: z.uuid(),
  name: z.string(),
  token: z.string(),
  prefix: z.string(),
  scopes: z.array(ScopeSchema),
  expiresAt: z.iso.datetime({ offset: true }).nullable(),
  createdAt: z.iso.datetime({ offset: true }),
});

const Owned = z.strictObject({ userId: z.uuid(), tokenId: z.uuid() });

export const PatRequests = {
  create: defineRequest('identity.pat.create.v1', { request: CreatePatBodySchema.extend({ userId: z.uuid() }), response: CreatedPatSchema }),
  /** userId null: every user's tokens (admin). */
  list: defineRequest('identity.pat.list.v1', {
    request: z.strictObject({ userId: z.uuid().nullable() }),
    response: z.strictObject({ items: z.array(PatSchema) }),
  }),
  get: defineRequest('identity.pat.get.v1', { request: Owned, response: PatSchema }),
  /** userId null: an admin revoking anyone's token. */
  revoke: defineRequest('identity.pat.revoke.v1', {
    request: z.strictObject({ userId: z.uuid().nullable(), tokenId: z.uuid() }),
    response: PatSchema,
  }),
  rotate: defineRequest('identity.pat.rotate.v1', { request: Owned, response: CreatedPatSchema }),
} as const;
