import { z } from 'zod';
import { defineEvent } from '../kernel';
import { RoleSchema } from '../principal';

export const IdentityEvents = {
  userCreated: defineEvent(
    'identity.user.created',
    1,
    z.strictObject({
      userId: z.string(),
      username: z.string(),
      role: RoleSchema,
      /** True for the first admin created from configuration on an empty installation. */
      bootstrap: z.boolean(),
    }),
  ),
  /** The password hash never goes on the stream: only the fact that it changed. */
  sessionStarted: defineEvent(
    'identity.session.started',
    1,
    z.strictObject({ sessionId: z.string(), userId: z.string(), expiresAt: z.iso.datetime() }),
  ),
  signingKeyCreated: defineEvent(
    'identity.signing_key.created',
    1,
    z.strictObject({ kid: z.string(), alg: z.literal('EdDSA') }),
  ),
} as const;
