import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startInfra, type InfraHandle } from '../../libs/platform/src/infra/stack';
import { serviceEnv, startService, type ServiceProcess } from '../../libs/platform/src/launcher';
import { waitFor } from '../../libs/platform/src/testing/wait-for';

/**
 * SIGTERM while the database has been gone for a while: the outbox relay is retrying with backoff.
 * Shutdown must stop the relay instead of waiting for it to get through (it never would), make one
 * last attempt, and exit 0 well inside its deadline, not hang until someone SIGKILLs it.
 * (This suite runs its own PostgreSQL, since it stops it.)
 */
describe('shutdown while the database is down', () => {
  let dataDir: string;
  let infra: InfraHandle;
  let identity: ServiceProcess;
  const log = () => readFileSync(identity.logFile, 'utf8');

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'gantry-shutdown-'));
    infra = await startInfra({ dataDir, durable: false });
    const { databaseUrl, credentials } = await infra.prepareDatabase('gantry');
    await infra.s3.createBucket('gantry');
    const env = serviceEnv(
      { natsUrl: infra.nats.url, databaseUrl, s3: { ...infra.s3, bucket: 'gantry' }, admin: { username: 'admin', password: randomBytes(16).toString('base64url') } },
      { GANTRY_RELAY_POLL_MS: '50', GANTRY_SHUTDOWN_TIMEOUT_MS: '8000' },
    );
    identity = startService({ service: 'identity', env, credentials, logDir: join(dataDir, 'logs'), root: process.cwd() });
    await waitFor(async () => log().includes('service started'), { timeoutMs: 30000, message: 'identity did not start' });
  });
  afterAll(async () => {
    await identity?.stop(1000);
    await infra?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('exits 0 within its deadline, leaving unpublished events in the outbox', async () => {
    await infra.postgres.stop();
    // On failure, quote the service's log: a crash (not a slow relay) is the usual reason.
    await waitFor(async () => log().includes('outbox relay: pass failed'), { timeoutMs: 10000, message: 'relay never noticed the database was gone' }).catch(
      (error: Error) => {
        throw new Error(`${error.message}; identity's log ends:\n${log().slice(-3000)}`);
      },
    );
    await new Promise((resolve) => setTimeout(resolve, 1500)); // into a multi-second backoff
    const started = Date.now();
    expect(await identity.stop(30000)).toBe(0); // a SIGKILL at the 30 s grace would read null
    expect(Date.now() - started).toBeLessThan(8000);
    expect(log()).toContain('unpublished events stay in the outbox');
    expect(log()).not.toContain('shutdown timed out');
  });
});
