import { join } from 'node:path';
import { startNats, type NatsHandle } from './nats';
import { startPostgres, type PostgresHandle } from './postgres';
import { startS3, type S3Handle } from './s3';

export interface InfraHandle {
  nats: NatsHandle;
  postgres: PostgresHandle;
  s3: S3Handle;
  stop(): Promise<void>;
}

/** NATS (JetStream), PostgreSQL and S3 under one data dir, started in parallel. */
export async function startInfra(options: { dataDir: string; durable: boolean; externalS3?: { endpoint: string; accessKey: string; secretKey: string } }): Promise<InfraHandle> {
  const started = await Promise.allSettled([
    startNats({ dataDir: join(options.dataDir, 'nats') }),
    startPostgres({ dataDir: join(options.dataDir, 'postgres'), durable: options.durable }),
    startS3({ dataDir: join(options.dataDir, 's3'), external: options.externalS3 }),
  ]);
  const stopAll = () => Promise.all(started.map((s) => (s.status === 'fulfilled' ? s.value.stop().catch(() => undefined) : undefined))).then(() => undefined);
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await stopAll();
    throw failed.reason;
  }
  const [nats, postgres, s3] = started.map((s) => (s as PromiseFulfilledResult<unknown>).value) as [NatsHandle, PostgresHandle, S3Handle];
  return { nats, postgres, s3, stop: stopAll };
}
