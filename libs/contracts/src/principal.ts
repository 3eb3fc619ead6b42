import { z } from 'zod';

/** Every scope a credential can carry. A documented, fixed set (README "Scopes"). */
export const SCOPES = [
  'repo:read',
  'repo:write',
  'assets:write',
  'runs:write',
  'tokens:manage',
  'users:admin',
  'runners:manage',
] as const;
export const ScopeSchema = z.enum(SCOPES);
export type Scope = z.infer<typeof ScopeSchema>;

export const RoleSchema = z.enum(['admin', 'member']);
export type Role = z.infer<typeof RoleSchema>;

/** Scopes a role may hold at most; a credential never does more than its user's current role. */
export const ROLE_SCOPES: Record<Role, readonly Scope[]> = {
  admin: SCOPES,
  member: ['repo:read', 'repo:write', 'assets:write', 'runs:write', 'tokens:manage'],
};

export const PrincipalKindSchema = z.enum(['session', 'pat', 'runner', 'ci_job', 'api_key']);
export type PrincipalKind = z.infer<typeof PrincipalKindSchema>;

/** Who is calling, as the gateway resolved it. Cached by token hash; never holds the raw token. */
export const PrincipalSchema = z.strictObject({
  kind: PrincipalKindSchema,
  /** Id of the credential itself (session jti, token id). */
  credentialId: z.string(),
  userId: z.string().nullable(),
  username: z.string().nullable(),
  role: RoleSchema.nullable(),
  repoId: z.string().nullable(),
  runId: z.string().nullable(),
  scopes: z.array(ScopeSchema),
  /** Unix seconds after which the credential is no longer valid, if it expires. */
  expiresAt: z.number().int().nullable(),
});
export type Principal = z.infer<typeof PrincipalSchema>;

/** Issuer and audience of session JWTs: identity signs with them, the gateway checks both. */
export const SESSION_JWT = { issuer: 'gantry-identity', audience: 'gantry' } as const;

/** `GET /api/v1/user`: the caller as the gateway resolved it (never the credential itself). */
export const WhoAmISchema = z.strictObject({
  kind: PrincipalKindSchema,
  user: z.strictObject({ id: z.string(), username: z.string(), role: RoleSchema }).nullable(),
  repoId: z.string().nullable(),
  runId: z.string().nullable(),
  scopes: z.array(ScopeSchema),
  expiresAt: z.iso.datetime().nullable(),
});
export type WhoAmI = z.infer<typeof WhoAmISchema>;
