import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { loadConfig } from '#platform';
import { acceptsConnections } from '../libs/platform/src/infra/process';
import { startInfra } from '../libs/platform/src/infra/stack';
import {
  removeStackFile,
  SERVICE_NAMES,
  serviceEnv,
  ServiceSupervisor,
  startService,
  waitForHttp,
  writeStackFile,
  type ServiceName,
  type StackFile,
} from '../libs/platform/src/launcher';

/**
 * `npm run dev`: the whole stack on this machine without Docker — nats-server (JetStream),
 * PostgreSQL, S3 (s3rver, or the MinIO named by GANTRY_S3_ENDPOINT) and the four services.
 * State lives under GANTRY_DATA_DIR, so a restart keeps users and events. Each service is
 * supervised (restarted with backoff after a crash; see launcher/supervisor.ts), and
 * GANTRY_DATA_DIR/stack.json says where everything is while it runs (launcher/stack-file.ts).
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
  const supervisors = new Map<ServiceName, ServiceSupervisor>();
  let stack: StackFile | undefined;
  let stopping = false;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    // From here on every exit is expected: a Ctrl-C in the terminal reaches the services too.
    for (const supervisor of supervisors.values()) supervisor.disarm();
    stack = undefined;
    removeStackFile(dataDir);
    console.log('stopping …');
    // Gateways first: they flush usage records to identity on the way out.
    await Promise.all([...supervisors.values()].filter((s) => s.name.startsWith('gateway')).map((s) => s.stop()));
    await Promise.all([...supervisors.values()].map((s) => s.stop()));
    await infra.stop();
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));
  // The terminal went away: stop cleanly rather than leave the detached servers behind.
  process.on('SIGHUP', () => void shutdown(0));
  // `kill -USR2 <pid>`: start the services that gave up again.
  process.on('SIGUSR2', () => {
    const revived = [...supervisors.values()].filter((s) => s.revive());
    if (revived.length === 0) console.log('SIGUSR2: no service has given up; nothing to restart');
  });

  const saveStack = () => {
    if (!stack || stopping) return;
    for (const [name, supervisor] of supervisors) {
      stack.services[name] = { pid: supervisor.pid ?? null, state: supervisor.state, restarts: supervisor.restarts, logFile: supervisor.current?.logFile ?? '' };
    }
    stack.nats.pid = positive(infra.nats.pid);
    stack.postgres.pid = postmasterPid(join(dataDir, 'postgres'));
    stack.updatedAt = new Date().toISOString();
    try {
      writeStackFile(dataDir, stack);
    } catch (error) {
      console.error(`could not write ${join(dataDir, 'stack.json')}: ${error instanceof Error ? error.message : String(error)}`);
    }
  };

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
    for (const service of SERVICE_NAMES) {
      const supervisor = new ServiceSupervisor({
        name: service,
        start: () => startService({ service, env, credentials, logDir, root: process.cwd() }),
        giveUpHint: (name) =>
          stack
            ? `the rest of the stack keeps running; to start ${name} again, fix the cause, then \`kill -USR2 ${process.pid}\` (starts every service that gave up) or restart npm run dev`
            : `${name} did not start: npm run dev stops; fix the cause and run it again`,
        onStateChange: saveStack,
      });
      supervisors.set(service, supervisor);
      supervisor.start();
    }
    const listenHost = ['0.0.0.0', '::', ''].includes(config.GANTRY_HOST) ? '127.0.0.1' : config.GANTRY_HOST;
    const listenUrl = `http://${listenHost.includes(':') ? `[${listenHost}]` : listenHost}:${config.GANTRY_PORT}`;
    // A service that gives up before the stack is up fails the start (its log lines are printed).
    const gaveUp = () => [...supervisors.values()].filter((s) => s.state === 'gave-up').map((s) => s.name);
    await waitForHttp(`http://127.0.0.1:${config.GANTRY_PORT}/readyz`, 60000, () => !stopping && gaveUp().length === 0).catch((error: unknown) => {
      throw gaveUp().length > 0 ? new Error(`not started: ${gaveUp().join(', ')} kept crashing`) : error;
    });
    const now = new Date().toISOString();
    stack = {
      version: 1,
      launcher: { pid: process.pid, startedAt: now, dataDir },
      updatedAt: now,
      gateway: { url: publicUrl, listenUrl },
      nats: { url: infra.nats.url, monitorUrl: infra.nats.monitorUrl, credentials: { ...infra.nats.admin }, pid: positive(infra.nats.pid) },
      postgres: { url: databaseUrl, pid: postmasterPid(join(dataDir, 'postgres')) },
      s3: { ...s3, pid: externalS3 ? null : process.pid },
      services: {} as StackFile['services'],
    };
    saveStack();
    console.log([
      '',
      `Gantry is up: ${publicUrl}`,
      `  admin user:     ${admin.username}`,
      `  admin password: ${admin.password}  (from ${config.GANTRY_ADMIN_PASSWORD ? 'GANTRY_ADMIN_PASSWORD' : join(dataDir, 'admin-password')}: the first one; a password changed since is not written back)`,
      `  logs:           ${logDir}`,
      `  stack:          ${join(dataDir, 'stack.json')} (URLs, credentials, PIDs)`,
      `  try: curl -s -X POST ${publicUrl}/api/v1/auth/login -H 'content-type: application/json' \\`,
      `         -d '{"username":"${admin.username}","password":"<password>"}'`,
      'A crashed service is restarted. Ctrl-C stops everything.',
    ].join('\n'));
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    await shutdown(1);
  }
}

function positive(pid: number): number | null {
  return pid > 0 ? pid : null;
}

/** PostgreSQL's PID: the first line of postmaster.pid in its data directory (null if unreadable). */
function postmasterPid(pgData: string): number | null {
  try {
    const pid = Number(readFileSync(join(pgData, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

void main();
