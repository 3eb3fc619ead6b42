import { z } from 'zod';
import { loadConfig, ServiceConfigSchema } from '#platform';

export const IdentityConfigSchema = ServiceConfigSchema.extend({
  GANTRY_ADMIN_USERNAME: z.string().regex(/^[a-z0-9-]{1,39}$/, '1–39 of a-z, 0-9 and -').default('admin'),
  /** Unset: a password is generated on the first start and written to GANTRY_DATA_DIR/initial_admin_password. */
  GANTRY_ADMIN_PASSWORD: z.string().min(12, 'at least 12 characters').optional(),
  /** Where identity writes the generated first-admin password (0600); unused with GANTRY_ADMIN_PASSWORD. */
  GANTRY_DATA_DIR: z.string().min(1).default('.gantry'),
  GANTRY_SESSION_TTL_SECONDS: z.coerce.number().int().min(60).max(86400).default(3600),
  /** Longest lifetime a personal access token may ask for, in days (≤ 366). */
  GANTRY_PAT_MAX_DAYS: z.coerce.number().int().min(1).max(366).default(366),
  /** Whether `expiresInDays: null` (a token that never expires) is allowed. */
  GANTRY_PAT_ALLOW_NO_EXPIRY: z.stringbool().default(false),
  /** Identity's heartbeat to the gateways, and how long it waits after a start to know them all. */
  GANTRY_PRESENCE_INTERVAL_MS: z.coerce.number().int().min(100).max(10000).default(1000),
  /** Lifetime of a runner install token (single use). */
  GANTRY_INSTALL_TOKEN_TTL_SECONDS: z.coerce.number().int().min(10).max(86400).default(900),
});
export type IdentityConfig = z.infer<typeof IdentityConfigSchema>;

export const IDENTITY_CONFIG = Symbol('IDENTITY_CONFIG');

export function loadIdentityConfig(env: NodeJS.ProcessEnv = process.env): IdentityConfig {
  return loadConfig(IdentityConfigSchema, env);
}
