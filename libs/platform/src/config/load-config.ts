import { z } from 'zod';

/** Thrown at start when the environment is invalid; lists every bad variable at once. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
}

/**
 * Parses the environment once, at start, into a typed object. No other code reads process.env.
 * The schema's keys are the variable names.
 */
export function loadConfig<S extends z.ZodObject>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const result = schema.safeParse(present);
  if (result.success) return result.data;
  throw new ConfigError(result.error.issues.map((issue) => `${issue.path.join('.') || '(env)'}: ${issue.message}`));
}

/** Settings shared by every service. */
export const CommonConfigSchema = z.object({
  GANTRY_NATS_URL: z.string().regex(/^(nats|tls):\/\//, 'must be a nats:// URL').default('nats://127.0.0.1:4222'),
  /**
   * This service's NATS user and password (README "Security": one user per service, with subject
   * allow-lists); both or neither. Never logged. Replies come to the user's own `_INBOX.<user>.>`.
   */
  GANTRY_NATS_USER: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, '1–64 of A-Z, a-z, 0-9, _ and -').optional(),
  GANTRY_NATS_PASSWORD: z.string().min(1).optional(),
  GANTRY_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Milliseconds a NATS request may take before the caller gives up. */
  GANTRY_NATS_REQUEST_TIMEOUT_MS: z.coerce.number().int().positive().default(5000),
  /** How long a SIGTERM's graceful shutdown may take before the process exits 1 anyway. */
  GANTRY_SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().positive().default(8000),
});
export type CommonConfig = z.infer<typeof CommonConfigSchema>;

export const DatabaseConfigSchema = z.object({
  GANTRY_DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL'),
  GANTRY_DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(10),
  /** How often the outbox relay polls when no NOTIFY woke it (fallback only). */
  GANTRY_RELAY_POLL_MS: z.coerce.number().int().min(10).default(1000),
});
