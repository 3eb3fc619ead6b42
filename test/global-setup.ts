import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureNatsServer } from '../libs/platform/src/infra/nats';
import { startPostgres } from '../libs/platform/src/infra/postgres';
import { startS3 } from '../libs/platform/src/infra/s3';
import { SHARED_INFRA, type SharedInfra } from './shared-infra';

/**
 * One PostgreSQL and one S3 server for the whole run; each test file then gets its own database,
 * bucket and nats-server (testInfra). Coordinates reach the test workers through process.env,
 * which jest hands to the workers it starts after global setup.
 */
function externalS3() {
  const { GANTRY_S3_ENDPOINT: endpoint, GANTRY_S3_ACCESS_KEY: accessKey, GANTRY_S3_SECRET_KEY: secretKey } = process.env;
  return endpoint ? { endpoint, accessKey: accessKey ?? '', secretKey: secretKey ?? '' } : undefined;
}

export default async function globalSetup(): Promise<void> {
  const registry = globalThis as unknown as Record<string, SharedInfra | undefined>;
  if (registry[SHARED_INFRA]) return; // the integration and e2e projects share one setup
  const dir = mkdtempSync(join(tmpdir(), 'gantry-test-'));
  chmodSync(dir, 0o755); // PostgreSQL runs as the postgres user and must traverse it
  const [natsBin, postgres, s3] = await Promise.allSettled([
    ensureNatsServer(),
    startPostgres({ dataDir: join(dir, 'postgres'), durable: false }),
    // A real MinIO (or any S3) instead of s3rver when GANTRY_S3_* name one: see README "Tests".
    startS3({ dataDir: join(dir, 's3'), external: externalS3() }),
  ]);
  if (natsBin.status === 'rejected' || postgres.status === 'rejected' || s3.status === 'rejected') {
    await Promise.allSettled([postgres, s3].map((s) => (s.status === 'fulfilled' ? s.value.stop() : undefined)));
    rmSync(dir, { recursive: true, force: true });
    throw [natsBin, postgres, s3].flatMap((s) => (s.status === 'rejected' ? [s.reason] : []))[0];
  }
  registry[SHARED_INFRA] = { dir, postgres: postgres.value, s3: s3.value };
  Object.assign(process.env, {
    GANTRY_TEST_DIR: dir,
    GANTRY_TEST_NATS_BIN: natsBin.value,
    GANTRY_TEST_PG_URL: postgres.value.url,
    GANTRY_TEST_PG_PORT: String(postgres.value.port),
    GANTRY_TEST_S3_ENDPOINT: s3.value.endpoint,
    GANTRY_TEST_S3_ACCESS_KEY: s3.value.accessKey,
    GANTRY_TEST_S3_SECRET_KEY: s3.value.secretKey,
  });
}
