import { rmSync } from 'node:fs';
import { SHARED_INFRA, type SharedInfra } from './shared-infra';

export default async function globalTeardown(): Promise<void> {
  const registry = globalThis as unknown as Record<string, SharedInfra | undefined>;
  const infra = registry[SHARED_INFRA];
  if (!infra) return;
  registry[SHARED_INFRA] = undefined;
  await Promise.all([infra.postgres.stop(), infra.s3.stop()]);
  rmSync(infra.dir, { recursive: true, force: true });
}
