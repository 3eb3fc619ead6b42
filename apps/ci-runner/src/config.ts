import { z } from 'zod';
import { loadConfig, ServiceConfigSchema } from '#platform';

export const CiConfigSchema = ServiceConfigSchema.extend({
  /** The gateway's public URL: GANTRY_URL of a run unless GANTRY_CI_GATEWAY_URL says otherwise. */
  GANTRY_PUBLIC_URL: z.url().default('http://localhost:8080'),
  /** The gateway as this host reaches it (in compose: http://gateway:8080). */
  GANTRY_CI_GATEWAY_URL: z.url().optional(),
  /** Runs this process executes at once with the local executor. */
  GANTRY_CI_CONCURRENCY: z.coerce.number().int().min(0).max(64).default(2),
  GANTRY_CI_MAX_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(86400).default(86400),
  /** Between SIGTERM and SIGKILL when a run is cancelled or times out. */
  GANTRY_CI_KILL_GRACE_MS: z.coerce.number().int().min(0).max(600000).default(5000),
  /** A run's stored log stops here (then a truncation marker). */
  GANTRY_CI_LOG_MAX_BYTES: z.coerce.number().int().min(1024).default(10 * 1024 * 1024),
  /** How long a running run may go without a heartbeat from its runner (or worker) before it fails. */
  GANTRY_RUNNER_LOST_SECONDS: z.coerce.number().int().min(2).max(3600).default(60),
  /** How long a run waits in the queue for identity to issue its token before it fails. */
  GANTRY_CI_TOKEN_WAIT_SECONDS: z.coerce.number().int().min(1).default(300),
  /** Fallback poll for queued runs and lost runners (NOTIFY wakes the worker at once). */
  GANTRY_CI_POLL_MS: z.coerce.number().int().min(10).default(1000),
  /** Jobs put at start (YAML, see README). */
  GANTRY_JOBS_FILE: z.string().optional(),
  /** This worker's name in runs' `runner` field; default: host name and process id. */
  GANTRY_CI_WORKER_ID: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/).optional(),
});
export type CiConfig = z.infer<typeof CiConfigSchema>;

export const CI_CONFIG = Symbol('CI_CONFIG');

export function loadCiConfig(env: NodeJS.ProcessEnv = process.env): CiConfig {
  return loadConfig(CiConfigSchema, env);
}
