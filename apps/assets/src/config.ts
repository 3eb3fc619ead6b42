import { z } from 'zod';
import { loadConfig, ServiceConfigSchema } from '#platform';

export const AssetsConfigSchema = ServiceConfigSchema.extend({
  GANTRY_S3_ENDPOINT: z.url(),
  GANTRY_S3_ACCESS_KEY: z.string().min(1),
  GANTRY_S3_SECRET_KEY: z.string().min(1),
  GANTRY_S3_BUCKET: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'an S3 bucket name').default('gantry'),
  GANTRY_S3_REGION: z.string().default('us-east-1'),
});
export type AssetsConfig = z.infer<typeof AssetsConfigSchema>;

export const ASSETS_CONFIG = Symbol('ASSETS_CONFIG');

export function loadAssetsConfig(env: NodeJS.ProcessEnv = process.env): AssetsConfig {
  return loadConfig(AssetsConfigSchema, env);
}
