import { z } from 'zod';
import { loadConfig, ServiceConfigSchema } from '#platform';

export const CiConfigSchema = ServiceConfigSchema;
export type CiConfig = z.infer<typeof CiConfigSchema>;

export function loadCiConfig(env: NodeJS.ProcessEnv = process.env): CiConfig {
  return loadConfig(CiConfigSchema, env);
}
