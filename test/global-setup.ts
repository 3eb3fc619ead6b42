import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureNatsServer } from '../libs/platform/src/infra/nats';
import { startPostgres } from '../libs/platform/src/infra/postgres';
import { startS3 } from '../libs/platform/src/infra/s3';
import { SHARED_INFRA, type SharedInfra } from './shared-infra';

/**
 * One PostgreSQL and one S3 server for the whole run; each test file then gets its own database,
 * bucket and nats-server (testInfra). Coordinates reach the test workers through the environment.
 */
export default async function globalSetup(): Promise<void> {
  const registry = globalThis as unknown as Record<string, SharedInfra | undefined>;
  if (registry[SHARED_INFRA]) return; // several jest projects share one setup
  const dir = mkdtempSync(join(tmpdir(), 'gantry-test-'));
  const natsBin = ensureNatsServer();
  const [postgres, s3] = await Promise.all([startPostgres({ dataDir: join(dir, 'postgres') }), startS3({ dataDir: join(dir, 's3') })]);
  registry[SHARED_INFRA] = { dir, postgres, s3 };
  Object.assign(process.env, {
    GANTRY_TEST_DIR: dir,
    GANTRY_TEST_NATS_BIN: natsBin,
    GANTRY_TEST_PG_URL: postgres.url,
    GANTRY_TEST_S3_ENDPOINT: s3.endpoint,
    GANTRY_TEST_S3_ACCESS_KEY: s3.accessKey,
    GANTRY_TEST_S3_SECRET_KEY: s3.secretKey,
  });
}
