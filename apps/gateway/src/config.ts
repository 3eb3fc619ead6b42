import { z } from 'zod';
import { CommonConfigSchema, loadConfig, MetricsConfigSchema } from '#platform';
import { parseTrustProxy, type TrustProxy } from './http/client-ip';

export const GatewayConfigSchema = CommonConfigSchema.extend({
  GANTRY_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  GANTRY_HOST: z.string().default('0.0.0.0'),
  GANTRY_PUBLIC_URL: z.url().default('http://localhost:8080'),
  /** Whose X-Forwarded-For names the client: false, true (every hop), a hop count, or proxy IPs/CIDRs. */
  GANTRY_TRUST_PROXY: z
    .string()
    .transform((value, context): TrustProxy => {
      const parsed = parseTrustProxy(value);
      if (typeof parsed === 'object' && !Array.isArray(parsed)) {
        context.addIssue({ code: 'custom', message: parsed.error });
        return z.NEVER;
      }
      return parsed;
    })
    .default(false),
  GANTRY_BODY_LIMIT_BYTES: z.coerce.number().int().positive().default(1024 * 1024),
  /** How long /readyz waits for each service's ping. */
  GANTRY_READY_TIMEOUT_MS: z.coerce.number().int().positive().default(1000),
  /** How long a resolved credential is trusted without asking identity again (≤ 60 s). */
  GANTRY_AUTH_CACHE_TTL_MS: z.coerce.number().int().min(0).max(60000).default(30000),
  GANTRY_AUTH_CACHE_MAX: z.coerce.number().int().min(1).default(10000),
  /** How long identity's answer to "the caller's role in this repository" is reused (≤ 60 s; 0: off). */
  GANTRY_REPO_CACHE_TTL_MS: z.coerce.number().int().min(0).max(60000).default(10000),
  /** This gateway's name in presence heartbeats and invalidation acks. */
  GANTRY_GATEWAY_ID: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).optional(),
  GANTRY_PRESENCE_INTERVAL_MS: z.coerce.number().int().min(100).max(10000).default(1000),
  /** How often batched last-use records go to identity. */
  GANTRY_USAGE_FLUSH_MS: z.coerce.number().int().min(100).default(10000),
  /** Per credential: sustained requests a second and burst. Per gateway instance. */
  GANTRY_RATE_LIMIT_PER_SECOND: z.coerce.number().positive().default(50),
  GANTRY_RATE_LIMIT_BURST: z.coerce.number().int().positive().default(200),
  /** Per client IP, for login, install-token exchange, leak reports and failed authentications. */
  GANTRY_RATE_LIMIT_ANON_PER_SECOND: z.coerce.number().positive().default(5),
  GANTRY_RATE_LIMIT_ANON_BURST: z.coerce.number().int().positive().default(30),
  /** How long `POST /api/v1/runner/runs/claim` waits for a run before answering 204. */
  GANTRY_RUNNER_CLAIM_WAIT_MS: z.coerce.number().int().min(0).max(60000).default(30000),
  /** Comment lines on an idle run event stream, so proxies keep it open. */
  GANTRY_SSE_HEARTBEAT_MS: z.coerce.number().int().min(100).max(120000).default(15000),
  /** Failed logins for one username from one IP before exponential backoff starts. */
  GANTRY_LOGIN_FREE_ATTEMPTS: z.coerce.number().int().min(1).default(5),
  /** Failed logins for one username from all IPs before it slows down (not for IPs it signed in from). */
  GANTRY_LOGIN_USER_FREE_ATTEMPTS: z.coerce.number().int().min(1).default(20),
  /** Security events: refusals are counted per (reason, client, method, route, credential kind) over this interval, then published. */
  GANTRY_SECURITY_EVENT_INTERVAL_MS: z.coerce.number().int().min(100).max(3_600_000).default(10000),
  /** Per-client keys one interval holds; refusals with new keys beyond it are counted per route under ip "*". */
  GANTRY_SECURITY_EVENT_MAX_KEYS: z.coerce.number().int().min(1).max(1_000_000).default(1000),
  /** Security events held while JetStream does not take them; beyond it new ones are dropped (and counted in metrics). */
  GANTRY_SECURITY_EVENT_QUEUE_MAX: z.coerce.number().int().min(1).max(1_000_000).default(20000),
}).extend(MetricsConfigSchema.shape);
export type GatewayConfig = z.infer<typeof GatewayConfigSchema>;

export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');

export function loadGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  return loadConfig(GatewayConfigSchema, env);
}
