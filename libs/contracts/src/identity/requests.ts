import { z } from 'zod';
import { defineRequest } from '../kernel';
import { RoleSchema } from '../principal';
import { PingResponseSchema } from '../health';

export const UsernameSchema = z
  .string()
  .min(1)
  .max(39)
  .regex(/^[a-z0-9-]+$/, 'lowercase letters, digits and dashes only');

export const UserViewSchema = z.strictObject({
  id: z.string(),
  username: z.string(),
  role: RoleSchema,
});
export type UserView = z.infer<typeof UserViewSchema>;

/** HTTP body of `POST /api/v1/auth/login`. */
export const LoginBodySchema = z.strictObject({
  username: z.string().min(1).max(39),
  password: z.string().min(1).max(1024),
});
export type LoginBody = z.infer<typeof LoginBodySchema>;

export const LoginResponseSchema = z.strictObject({
  token: z.string(),
  expiresAt: z.iso.datetime(),
  user: UserViewSchema,
});

export const IdentityRequests = {
  ping: defineRequest('identity.health.ping.v1', {
    request: z.strictObject({}),
    response: PingResponseSchema,
  }),
  login: defineRequest('identity.auth.login.v1', {
    request: LoginBodySchema,
    response: LoginResponseSchema,
  }),
  /** The public half of the session signing keys, as a JWK set. */
  jwks: defineRequest('identity.auth.jwks.v1', {
    request: z.strictObject({}),
    response: z.strictObject({ keys: z.array(z.record(z.string(), z.unknown())) }),
  }),
} as const;
