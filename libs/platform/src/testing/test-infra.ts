import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNats, type NatsHandle } from '../infra/nats';
import { createDatabaseOn, dropDatabaseOn } from '../infra/postgres';
import { createServiceRoles, dropServiceRoles } from '../infra/postgres-roles';
import { createBucketOn } from '../infra/s3';
import { serviceCredentials, type ServiceCredentials } from '../infra/service-credentials';

export interface TestInfra {
  /** This test file's scratch directory (nats data, logs); removed by stop(). */
  dir: string;
  /** Superuser URL of this file's database (tests may read and write every schema with it). */
  databaseUrl: string;
  /** Each service's NATS user and database role (roles `t_<id>_identity` etc.: their own per file). */
  credentials: ServiceCredentials;
  s3: { endpoint: string; accessKey: string; secretKey: string; bucket: string };
  /**
   * A nats-server with JetStream for this file alone: stop and restart it at will. It refuses
   * anonymous connections: `connect({ servers: infra.nats.url, ...infra.nats.admin })`.
   */
  nats: NatsHandle;
  /** Drops the database, stops nats-server, removes the scratch directory. */
  stop(): Promise<void>;
}

/** Set by test/global-setup.ts, which starts one PostgreSQL and one S3 server per jest run. */
function shared(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run integration and e2e tests through jest (its global setup starts the servers)`);
  return value;
}

/**
 * Isolation per test file, for beforeAll: a fresh database on the run's PostgreSQL, a fresh
 * bucket on its S3 server, and a private nats-server with JetStream on free ports.
 */
export async function testInfra(): Promise<TestInfra> {
  const id = randomBytes(6).toString('hex');
  const dir = mkdtempSync(join(tmpdir(), `gantry-file-${id}-`));
  const serverUrl = shared('GANTRY_TEST_PG_URL');
  const database = `t_${id}`;
  const rolePrefix = `t_${id}_`;
  const s3 = { endpoint: shared('GANTRY_TEST_S3_ENDPOINT'), accessKey: shared('GANTRY_TEST_S3_ACCESS_KEY'), secretKey: shared('GANTRY_TEST_S3_SECRET_KEY'), bucket: `t-${id}` };
  const [db, bucket, nats] = await Promise.allSettled([
    createDatabaseOn(serverUrl, database).then(async (url) => ({ url, roles: await createServiceRoles(url, { prefix: rolePrefix }) })),
    createBucketOn(s3, s3.bucket),
    startNats({ dataDir: join(dir, 'nats'), binary: process.env.GANTRY_TEST_NATS_BIN || undefined }),
  ]);
  const stop = async () => {
    await Promise.allSettled([
      nats.status === 'fulfilled' ? nats.value.stop() : undefined,
      dropDatabaseOn(serverUrl, database).then(() => dropServiceRoles(serverUrl, rolePrefix)),
    ]);
    rmSync(dir, { recursive: true, force: true });
  };
  if (db.status === 'rejected' || bucket.status === 'rejected' || nats.status === 'rejected') {
    await stop();
    throw [db, bucket, nats].flatMap((s) => (s.status === 'rejected' ? [s.reason] : []))[0];
  }
  return { dir, databaseUrl: db.value.url, credentials: serviceCredentials(nats.value, db.value.roles), s3, nats: nats.value, stop };
}
