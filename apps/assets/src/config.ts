import { z } from 'zod';
import { loadConfig, ServiceConfigSchema } from '#platform';

/** S3's limit for one PUT (the gateway streams a body as one presigned PUT, never multipart). */
export const SINGLE_PUT_MAX_BYTES = 5 * 1024 ** 3;
/** SigV4 presigned URLs live at most 7 days. */
const PRESIGN_MAX_SECONDS = 7 * 24 * 3600;
const anySeconds = (min = 1) => z.coerce.number().int().min(min).max(PRESIGN_MAX_SECONDS);
const seconds = (fallback: number, min = 1) => anySeconds(min).default(fallback);

export const AssetsConfigSchema = ServiceConfigSchema.extend({
  GANTRY_S3_ENDPOINT: z.url(),
  GANTRY_S3_ACCESS_KEY: z.string().min(1),
  GANTRY_S3_SECRET_KEY: z.string().min(1),
  GANTRY_S3_BUCKET: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'an S3 bucket name').default('gantry'),
  GANTRY_S3_REGION: z.string().default('us-east-1'),
  /** Largest asset; above it authorize answers 413 too_large. */
  GANTRY_ASSET_MAX_BYTES: z.coerce.number().int().min(0).max(SINGLE_PUT_MAX_BYTES, 'at most 5 GiB (S3 limit of a single PUT)').default(SINGLE_PUT_MAX_BYTES),
  /** How long the presigned PUT may be started. */
  GANTRY_ASSET_UPLOAD_URL_TTL_SECONDS: seconds(900),
  /**
   * How long after authorization an upload may still be completed; default the larger of an hour
   * and the URL's lifetime. S3 checks a presigned URL's expiry when the PUT starts, not when a
   * large body finishes arriving; past this the upload is abandoned and its object swept.
   */
  GANTRY_ASSET_UPLOAD_MAX_SECONDS: anySeconds().optional(),
  GANTRY_ASSET_DOWNLOAD_URL_TTL_SECONDS: seconds(300),
  /**
   * How long a replaced or deleted asset's object is kept for downloads already streaming it.
   * Below GANTRY_ASSET_DOWNLOAD_URL_TTL_SECONDS a download authorized just before a replace may
   * find its object gone; allowed (tests, tight storage), not advised.
   */
  GANTRY_ASSET_GARBAGE_DELAY_SECONDS: seconds(900, 0),
  /** How often each replica sweeps abandoned uploads and due garbage. */
  GANTRY_ASSET_SWEEP_MS: z.coerce.number().int().min(50).max(3_600_000).default(10_000),
}).superRefine((config, ctx) => {
  if (config.GANTRY_ASSET_UPLOAD_MAX_SECONDS !== undefined && config.GANTRY_ASSET_UPLOAD_MAX_SECONDS < config.GANTRY_ASSET_UPLOAD_URL_TTL_SECONDS) {
    ctx.addIssue({ code: 'custom', path: ['GANTRY_ASSET_UPLOAD_MAX_SECONDS'], message: 'must be at least GANTRY_ASSET_UPLOAD_URL_TTL_SECONDS (an upload may start until its URL expires)' });
  }
});
export type AssetsConfig = z.infer<typeof AssetsConfigSchema>;

export const ASSETS_CONFIG = Symbol('ASSETS_CONFIG');

/** Seconds after authorization until an upload is abandoned (see GANTRY_ASSET_UPLOAD_MAX_SECONDS). */
export function uploadDeadlineSeconds(config: AssetsConfig): number {
  return config.GANTRY_ASSET_UPLOAD_MAX_SECONDS ?? Math.max(3600, config.GANTRY_ASSET_UPLOAD_URL_TTL_SECONDS);
}

export function loadAssetsConfig(env: NodeJS.ProcessEnv = process.env): AssetsConfig {
  return loadConfig(AssetsConfigSchema, env);
}
