import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { loadConfig } from '#platform';
import { acceptsConnections } from '../libs/platform/src/infra/process';
import { startInfra } from '../libs/platform/src/infra/stack';
import { serviceEnv, startService, waitForHttp, type ServiceProcess } from '../libs/platform/src/launcher';

/**
 * `npm run dev`: the whole stack on this machine without Docker — nats-server (JetStream),
 * PostgreSQL, S3 (s3rver, or the MinIO named by GANTRY_S3_ENDPOINT) and the four services.
 * State lives under GANTRY_DATA_DIR, so a restart keeps users and events.
 */
const DevConfigSchema = z.object({
  GANTRY_DATA_DIR: z.string().default('.gantry'),
  GANTRY_PORT: z.coerce.number().int().min(1).max(65535).default(8080),
  /** Dev listens on loopback only unless told otherwise. */
  GANTRY_HOST: z.string().default('127.0.0.1'),
  GANTRY_PUBLIC_URL: z.url().optional(),
  GANTRY_S3_ENDPOINT: z.url().optional(),
  GANTRY_S3_ACCESS_KEY: z.string().optional(),
  GANTRY_S3_SECRET_KEY: z.string().optional(),
  GANTRY_S3_BUCKET: z.string().default('gantry'),
  GANTRY_ADMIN_USERNAME: z.string().default('admin'),
  GANTRY_ADMIN_PASSWORD: z.string().min(12).optional(),
  GANTRY_LOG_LEVEL: z.string().default('info'),
});

/** The admin password is made once and kept in the data dir, so every start prints the same one. */
function adminPassword(dataDir: string, given: string | undefined): string {
  if (given) return given;
  const file = join(dataDir, 'admin-password');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const password = randomBytes(18).toString('base64url');
  writeFileSync(file, password + '\n', { mode: 0o600 });
  return password;
}

async function main(): Promise<void> {
  const config = loadConfig(DevConfigSchema);
  const dataDir = resolve(config.GANTRY_DATA_DIR);
  mkdirSync(dataDir, { recursive: true });
  const externalS3 = config.GANTRY_S3_ENDPOINT
    ? { endpoint: config.GANTRY_S3_ENDPOINT, accessKey: config.GANTRY_S3_ACCESS_KEY ?? '', secretKey: config.GANTRY_S3_SECRET_KEY ?? '' }
    : undefined;
  // A second `npm run dev` (or anything else) on the port: say so instead of reporting it as ours.
  if (await acceptsConnections(config.GANTRY_PORT)) {
    console.error(`port ${config.GANTRY_PORT} is already in use (another npm run dev?): stop it, or set GANTRY_PORT`);
    process.exit(1);
  }
  console.log(`starting infrastructure in ${dataDir} …`);
  const infra = await startInfra({ dataDir, durable: true, externalS3 });
  const processes: ServiceProcess[] = [];
  let stopping = false;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    console.log('stopping …');
    // Gateways first: they flush usage records to identity on the way out.
    await Promise.all(processes.filter((p) => p.name.startsWith('gateway')).map((p) => p.stop()));
    await Promise.all(processes.map((p) => p.stop()));
    await infra.stop();
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));

  try {
    // Each service its own database role (owner of its schema only) and NATS user, new passwords every start.
    const { databaseUrl, credentials } = await infra.prepareDatabase('gantry');
    await infra.s3.createBucket(config.GANTRY_S3_BUCKET);
    const admin = { username: config.GANTRY_ADMIN_USERNAME, password: adminPassword(dataDir, config.GANTRY_ADMIN_PASSWORD) };
    const publicUrl = config.GANTRY_PUBLIC_URL ?? `http://localhost:${config.GANTRY_PORT}`;
    const s3 = { endpoint: infra.s3.endpoint, accessKey: infra.s3.accessKey, secretKey: infra.s3.secretKey, bucket: config.GANTRY_S3_BUCKET };
    const env = serviceEnv(
      { natsUrl: infra.nats.url, databaseUrl, s3, admin },
      { GANTRY_PORT: String(config.GANTRY_PORT), GANTRY_HOST: config.GANTRY_HOST, GANTRY_PUBLIC_URL: publicUrl, GANTRY_LOG_LEVEL: config.GANTRY_LOG_LEVEL },
      process.env,
    );
    const logDir = join(dataDir, 'logs');
    for (const service of ['identity', 'assets', 'ci-runner', 'gateway'] as const) {
      const child = startService({ service, env, credentials, logDir, root: process.cwd() });
      processes.push(child);
      void child.exited.then((code) => {
        if (!stopping) {
          console.error(`${child.name} exited with code ${code}; see ${child.logFile}`);
          void shutdown(1);
        }
      });
    }
    await waitForHttp(`http://127.0.0.1:${config.GANTRY_PORT}/readyz`, 60000, () => !stopping);
    console.log([
      '',
      `Gantry is up: ${publicUrl}`,
      `  admin user:     ${admin.username}`,
      `  admin password: ${admin.password}  (from ${config.GANTRY_ADMIN_PASSWORD ? 'GANTRY_ADMIN_PASSWORD' : join(dataDir, 'admin-password')}: the first one; a password changed since is not written back)`,
      `  logs:           ${logDir}`,
      `  try: curl -s -X POST ${publicUrl}/api/v1/auth/login -H 'content-type: application/json' \\`,
      `         -d '{"username":"${admin.username}","password":"<password>"}'`,
      'Ctrl-C stops everything.',
    ].join('\n'));
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    await shutdown(1);
  }
}

void main();
