import { z } from 'zod';
import { defineRequest } from '../kernel';
import { storableString } from '../strings';

export const RepoNameSchema = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, ., _ and - only')
  .refine((name) => name !== '.' && name !== '..', 'reserved name');
export const VisibilitySchema = z.enum(['private', 'public']);
/** A member's role in one repository; the owner is an admin of it. */
export const RepoRoleSchema = z.enum(['read', 'write', 'admin']);
export type RepoRole = z.infer<typeof RepoRoleSchema>;

export const RepoSchema = z.strictObject({
  id: z.uuid(),
  owner: z.string(),
  name: z.string(),
  fullName: z.string(),
  visibility: VisibilitySchema,
  description: z.string().nullable(),
  createdAt: z.iso.datetime({ offset: true }),
});
export type Repo = z.infer<typeof RepoSchema>;

export const CreateRepoBodySchema = z.strictObject({
  name: RepoNameSchema,
  visibility: VisibilitySchema,
  description: storableString().max(500).optional(),
});
export const UpdateRepoBodySchema = z
  .strictObject({ visibility: VisibilitySchema.optional(), description: storableString().max(500).nullable().optional() })
  .refine((body) => Object.keys(body).length > 0, { message: 'nothing to change' });
export const PutMemberBodySchema = z.strictObject({ role: RepoRoleSchema });

export const MemberSchema = z.strictObject({ userId: z.uuid(), username: z.string(), role: RepoRoleSchema });

/** Who asks about a repository: enough for identity to work out their role in it. */
export const RepoCallerSchema = z.strictObject({
  userId: z.uuid().nullable(),
  instanceAdmin: z.boolean(),
  /** A credential bound to one repository (API key, CI job token). */
  boundRepoId: z.uuid().nullable(),
});
export type RepoCaller = z.infer<typeof RepoCallerSchema>;

const RepoRef = { repoId: z.uuid() };
const Empty = z.strictObject({});

export const RepoRequests = {
  /** The caller's role in `owner/name` (null: none; a public repo still reads). Unknown repo → not_found. */
  access: defineRequest('identity.repo.access.v1', {
    request: z.strictObject({ owner: storableString().max(39), name: storableString().max(100), caller: RepoCallerSchema }),
    response: z.strictObject({ repo: RepoSchema, role: RepoRoleSchema.nullable() }),
  }),
  create: defineRequest('identity.repo.create.v1', { request: CreateRepoBodySchema.extend({ ownerId: z.uuid() }), response: RepoSchema }),
  /** The repositories the caller can see. */
  list: defineRequest('identity.repo.list.v1', { request: z.strictObject({ caller: RepoCallerSchema }), response: z.strictObject({ items: z.array(RepoSchema) }) }),
  update: defineRequest('identity.repo.update.v1', { request: z.strictObject({ ...RepoRef, changes: UpdateRepoBodySchema }), response: RepoSchema }),
  delete: defineRequest('identity.repo.delete.v1', { request: z.strictObject(RepoRef), response: Empty }),
  members: defineRequest('identity.repo.members.v1', { request: z.strictObject(RepoRef), response: z.strictObject({ items: z.array(MemberSchema) }) }),
  putMember: defineRequest('identity.repo.put_member.v1', {
    request: z.strictObject({ ...RepoRef, username: storableString().max(39), role: RepoRoleSchema }),
    response: MemberSchema,
  }),
  removeMember: defineRequest('identity.repo.remove_member.v1', { request: z.strictObject({ ...RepoRef, username: storableString().max(39) }), response: Empty }),
} as const;
