import { join } from 'node:path';
import { startNats, type NatsHandle } from './nats';
import { startPostgres, type PostgresHandle } from './postgres';
import { createServiceRoles } from './postgres-roles';
import { startS3, type S3Coordinates, type S3Handle } from './s3';
import { serviceCredentials, type ServiceCredentials } from './service-credentials';

export interface InfraHandle {
  nats: NatsHandle;
  postgres: PostgresHandle;
  s3: S3Handle;
  /**
   * Creates the database `name` (unless it exists) with each backend service's role owning its
   * schema (new random passwords each time); returns its superuser URL and each service's credentials.
   */
  prepareDatabase(name: string): Promise<{ databaseUrl: string; credentials: ServiceCredentials }>;
  /** Stops all three in parallel; never throws (a failed stop must not hide the others). */
  stop(): Promise<void>;
}

export interface InfraOptions {
  /** Servers keep their state under dataDir/{nats,postgres,s3}. */
  dataDir: string;
  /** true for dev (fsync on), false for tests and benchmarks. */
  durable: boolean;
  /** An S3 to use instead of s3rver (e.g. MinIO given by GANTRY_S3_ENDPOINT). */
  externalS3?: S3Coordinates;
  /**
   * Servers in their own process group, out of reach of a terminal Ctrl-C, so the caller can stop
   * its services before the infrastructure they flush to. Default: `durable` (dev, whose SIGINT
   * handler does that); otherwise a Ctrl-C stops them with the caller.
   */
  detached?: boolean;
}

/** NATS (JetStream), PostgreSQL and S3 on loopback, started in parallel. */
export async function startInfra(options: InfraOptions): Promise<InfraHandle> {
  const detached = options.detached ?? options.durable;
  const started = await Promise.allSettled([
    startNats({ dataDir: join(options.dataDir, 'nats'), detached }),
    startPostgres({ dataDir: join(options.dataDir, 'postgres'), durable: options.durable, detached }),
    startS3({ dataDir: join(options.dataDir, 's3'), external: options.externalS3 }),
  ]);
  const stop = async () => {
    const running = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    await Promise.allSettled(running.map((server) => server.stop()));
  };
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    // Do not leave the servers that did start running behind the error.
    await stop();
    throw failed.reason;
  }
  const [nats, postgres, s3] = started.map((s) => (s as PromiseFulfilledResult<unknown>).value) as [NatsHandle, PostgresHandle, S3Handle];
  const prepareDatabase = async (name: string) => {
    const databaseUrl = await postgres.createDatabase(name);
    return { databaseUrl, credentials: serviceCredentials(nats, await createServiceRoles(databaseUrl)) };
  };
  return { nats, postgres, s3, prepareDatabase, stop };
}
