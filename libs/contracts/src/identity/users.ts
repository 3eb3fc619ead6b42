import { z } from 'zod';
import { defineRequest } from '../kernel';
import { pageOf, PageQuerySchema } from '../pagination';
import { RoleSchema } from '../principal';
import { storableString } from '../strings';

export const UsernameSchema = z
  .string()
  .min(1)
  .max(39)
  .regex(/^[a-z0-9-]+$/, 'lowercase letters, digits and dashes only');

/** Passwords are checked against the policy (≥ 12 characters) by identity: 400 weak_password. */
export const PasswordSchema = z.string().min(1).max(1024);
export const MIN_PASSWORD_LENGTH = 12;

export const UserSchema = z.strictObject({
  id: z.uuid(),
  username: z.string(),
  displayName: z.string().nullable(),
  role: RoleSchema,
  active: z.boolean(),
  createdAt: z.iso.datetime({ offset: true }),
  deactivatedAt: z.iso.datetime({ offset: true }).nullable(),
});
export type User = z.infer<typeof UserSchema>;

export const CreateUserBodySchema = z.strictObject({
  username: UsernameSchema,
  /** Omitted: identity generates one and returns it once. */
  password: PasswordSchema.optional(),
  role: RoleSchema,
  displayName: storableString().min(1).max(100).optional(),
});
export type CreateUserBody = z.infer<typeof CreateUserBodySchema>;

export const UpdateUserBodySchema = z
  .strictObject({
    role: RoleSchema.optional(),
    displayName: storableString().min(1).max(100).nullable().optional(),
    active: z.boolean().optional(),
  })
  .refine((body) => Object.keys(body).length > 0, { message: 'nothing to change' });
export type UpdateUserBody = z.infer<typeof UpdateUserBodySchema>;

export const SetPasswordBodySchema = z.strictObject({ password: PasswordSchema });
export const ChangePasswordBodySchema = z.strictObject({ currentPassword: PasswordSchema, newPassword: PasswordSchema });
export type ChangePasswordBody = z.infer<typeof ChangePasswordBodySchema>;

const UserIdSchema = z.strictObject({ userId: z.uuid() });
const Empty = z.strictObject({});

export const UserRequests = {
  list: defineRequest('identity.user.list.v1', { request: PageQuerySchema, response: pageOf(UserSchema) }),
  create: defineRequest('identity.user.create.v1', {
    request: CreateUserBodySchema,
    response: z.strictObject({ user: UserSchema, generatedPassword: z.string().optional() }),
  }),
  get: defineRequest('identity.user.get.v1', { request: UserIdSchema, response: UserSchema }),
  update: defineRequest('identity.user.update.v1', {
    request: z.strictObject({ userId: z.uuid(), changes: UpdateUserBodySchema }),
    response: UserSchema,
  }),
  delete: defineRequest('identity.user.delete.v1', { request: UserIdSchema, response: Empty }),
  /** Admin sets a password: every session of that user ends. */
  setPassword: defineRequest('identity.user.set_password.v1', {
    request: z.strictObject({ userId: z.uuid(), password: PasswordSchema }),
    response: Empty,
  }),
  /** The user changes their own password: every other session ends, the current one stays. */
  changePassword: defineRequest('identity.user.change_password.v1', {
    request: ChangePasswordBodySchema.extend({ userId: z.uuid(), sessionId: storableString() }),
    response: Empty,
  }),
} as const;
