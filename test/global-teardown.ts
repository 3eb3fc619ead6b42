import { rmSync } from 'node:fs';
import { SHARED_INFRA, type SharedInfra } from './shared-infra';

/** Stops what global setup started (jest runs it once per project: the first call does the work). */
export default async function globalTeardown(): Promise<void> {
  const registry = globalThis as unknown as Record<string, SharedInfra | undefined>;
  const infra = registry[SHARED_INFRA];
  if (!infra) return;
  registry[SHARED_INFRA] = undefined;
  await Promise.allSettled([infra.postgres.stop(), infra.s3.stop()]);
  rmSync(infra.dir, { recursive: true, force: true });
}
