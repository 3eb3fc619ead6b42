import { chmodSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { SERVICE_NAMES } from './services';

/**
 * `$GANTRY_DATA_DIR/stack.json`: what a running `npm run dev` started and where, so a subscriber
 * or a tool can find the stack. Written (mode 0600: it holds credentials) once everything is
 * started, rewritten when a service is restarted, removed on a clean shutdown. A file left behind
 * by a launcher that was killed names a PID that no longer runs: see launcherAlive().
 *
 * NATS: the launcher's full-rights `admin` user (it can read the EVENTS stream, create consumers,
 * publish anything); the same password is already in `$GANTRY_DATA_DIR/nats/nats.conf` (0600).
 * `connect({ servers: stack.nats.url, ...stack.nats.credentials })`.
 */
export const STACK_FILE_NAME = 'stack.json';

const Pid = z.number().int().positive();

export const SupervisedServiceSchema = z.object({
  /** The running process; null while it is down (restarting, gave up, stopped). */
  pid: Pid.nullable(),
  state: z.enum(['idle', 'running', 'restarting', 'gave-up', 'stopped']),
  /** Restarts after crashes since the launcher started. */
  restarts: z.number().int().min(0),
  logFile: z.string(),
});

export const StackFileSchema = z.object({
  version: z.literal(1),
  launcher: z.object({
    pid: Pid,
    startedAt: z.iso.datetime(),
    dataDir: z.string(),
  }),
  updatedAt: z.iso.datetime(),
  gateway: z.object({
    /** GANTRY_PUBLIC_URL: where users reach it. */
    url: z.url(),
    /** Where it listens (GANTRY_HOST:GANTRY_PORT); /healthz, /readyz. */
    listenUrl: z.url(),
  }),
  nats: z.object({
    url: z.string().startsWith('nats://'),
    /** nats-server's monitoring endpoint (/healthz, /jsz, /connz). */
    monitorUrl: z.url(),
    credentials: z.object({ user: z.string(), pass: z.string() }),
    pid: Pid.nullable(),
  }),
  postgres: z.object({
    /** Superuser URL of the stack's database (trust auth on loopback: no password). */
    url: z.string().startsWith('postgres'),
    pid: Pid.nullable(),
  }),
  s3: z.object({
    endpoint: z.url(),
    accessKey: z.string(),
    secretKey: z.string(),
    bucket: z.string(),
    /** s3rver runs inside the launcher (its PID); null for an external S3 (GANTRY_S3_ENDPOINT). */
    pid: Pid.nullable(),
  }),
  services: z.record(z.enum(SERVICE_NAMES), SupervisedServiceSchema),
});

export type StackFile = z.infer<typeof StackFileSchema>;
export type SupervisedServiceEntry = z.infer<typeof SupervisedServiceSchema>;

export function stackFilePath(dataDir: string): string {
  return join(dataDir, STACK_FILE_NAME);
}

/** Validates and writes the file atomically (a reader never sees half of it), mode 0600. */
export function writeStackFile(dataDir: string, stack: StackFile): void {
  const valid = StackFileSchema.parse(stack);
  const file = stackFilePath(dataDir);
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, JSON.stringify(valid, null, 2) + '\n', { mode: 0o600 });
  // writeFileSync's mode applies only to a new file (and passes through the umask).
  chmodSync(temporary, 0o600);
  renameSync(temporary, file);
}

/**
 * The stack file of the `npm run dev` using dataDir, or null when there is none. Throws when it
 * is not valid (with zod's description of what is wrong).
 */
export function readStackFile(dataDir: string): StackFile | null {
  let text: string;
  try {
    text = readFileSync(stackFilePath(dataDir), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`${stackFilePath(dataDir)} is not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  const parsed = StackFileSchema.safeParse(json);
  if (!parsed.success) throw new Error(`${stackFilePath(dataDir)} is not a valid stack file:\n${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** Removes the file if this launcher wrote it (a newer launcher's file is left alone). */
export function removeStackFile(dataDir: string, launcherPid = process.pid): void {
  try {
    const current = readStackFile(dataDir);
    if (current && current.launcher.pid !== launcherPid) return;
  } catch {
    // Unreadable: ours to clean up.
  }
  rmSync(stackFilePath(dataDir), { force: true });
}

/** Whether the launcher that wrote the file still runs (a file left by a killed launcher is stale). */
export function launcherAlive(stack: StackFile): boolean {
  try {
    process.kill(stack.launcher.pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
