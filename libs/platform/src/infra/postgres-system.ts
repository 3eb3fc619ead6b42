import { execFile } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { canConnect, ensureTraversable, POSTGRES_USER, serverFlags, type PostgresStarter } from './postgres-common';
import { findExecutable, spawnServer, waitUntilReady } from './process';

const run = promisify(execFile);

interface Binaries {
  initdb: string;
  postgres: string;
}

interface RunAs {
  uid?: number;
  gid?: number;
}

/** initdb and postgres from one installation: PATH first, else Debian's /usr/lib/postgresql/N/bin (not on PATH). */
export function findSystemPostgres(): Binaries | null {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => /^\d+$/.test(v)) : [];
  const debianDirs = versions.sort((a, b) => Number(b) - Number(a)).map((v) => join(root, v, 'bin'));
  const initdb = findExecutable('initdb', debianDirs);
  if (!initdb) return null;
  // /usr/local/bin/initdb may be a symlink: take postgres from the same installation.
  const sibling = join(dirname(realpathSync(initdb)), 'postgres');
  const postgres = existsSync(sibling) ? sibling : findExecutable('postgres', debianDirs);
  return postgres ? { initdb, postgres } : null;
}

/**
 * The machine's PostgreSQL. It refuses to run as root, so as root the data dir belongs to, and
 * the processes run as, the `postgres` user. They are spawned with its uid/gid rather than
 * through `runuser`: on a signal runuser SIGTERMs its child (a "smart" shutdown that waits for
 * clients) and SIGKILLs it 2 s later, which leaves orphaned backends behind.
 */
export const startSystemPostgres: PostgresStarter = async ({ dataDir, port, durable, detached }) => {
  const binaries = findSystemPostgres();
  if (!binaries) throw new Error('PostgreSQL binaries (initdb, postgres) not found on PATH or in /usr/lib/postgresql/*/bin');
  const ids = await postgresUser();
  await prepareDataDir(dataDir, ids);
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    const args = ['-D', dataDir, '-U', POSTGRES_USER, '--auth=trust', '-E', 'UTF8', '--locale=C', ...(durable ? [] : ['--no-sync'])];
    await run(binaries.initdb, args, { ...ids, cwd: dataDir }).catch((error: { stderr?: string; message: string }) => {
      throw new Error(`initdb failed in ${dataDir}: ${error.stderr?.trim() || error.message}`);
    });
  }
  const server = spawnServer(binaries.postgres, ['-D', dataDir, ...serverFlags({ dataDir, port, durable })], { ...ids, cwd: dataDir, stopSignal: 'SIGINT', detached });
  await waitUntilReady(server, `PostgreSQL on port ${port}`, () => canConnect(port), 30000);
  // SIGINT is PostgreSQL's fast shutdown: abort open transactions, checkpoint, exit.
  return () => server.stop('SIGINT', 10000);
};

async function postgresUser(): Promise<RunAs> {
  if (process.getuid?.() !== 0) return {};
  try {
    const [uid, gid] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])]);
    return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  } catch {
    throw new Error('PostgreSQL cannot run as root and there is no `postgres` user: create one (`useradd --system --user-group postgres`)');
  }
}

/** PostgreSQL insists on a data dir it owns with mode 0700. */
async function prepareDataDir(dataDir: string, ids: RunAs): Promise<void> {
  if (ids.uid !== undefined) {
    ensureTraversable(dataDir);
    if (statSync(dataDir).uid !== ids.uid) await run('chown', ['-R', `${ids.uid}:${ids.gid}`, dataDir]);
  }
  chmodSync(dataDir, 0o700);
}
