import { loadConfig, DatabaseConfigSchema } from '../config/load-config';
import { Database } from '../db/database';
import { runMigrations, type MigrationClass } from '../db/migrations';
import { EventStore } from './event-store';
import type { Projection } from './event-store.types';

/**
 * Rebuilds a service's projections from its events alone, in one transaction (readers see the old
 * read model until it commits). Safe while the service runs: appends wait for the replay's locks.
 */
export async function replayProjections(options: { url: string; schema: string; migrations: MigrationClass[]; projections: Projection[] }): Promise<number> {
  await runMigrations(options.url, options.schema, options.migrations);
  const db = new Database({ url: options.url, schema: options.schema, poolSize: 1, applicationName: `${options.schema}-replay` });
  try {
    const store = new EventStore(db, options.projections);
    return await store.replay();
  } finally {
    await db.close();
  }
}

/**
 * The `npm run replay:<service>` command: reads GANTRY_DATABASE_URL, rebuilds the projections and
 * prints one JSON line; exits 1 with the reason on failure.
 */
export function runReplayCommand(service: string, options: { schema: string; migrations: MigrationClass[]; projections: Projection[] }): void {
  const started = Date.now();
  const run = async () => {
    const config = loadConfig(DatabaseConfigSchema);
    const count = await replayProjections({ url: config.GANTRY_DATABASE_URL, ...options });
    console.log(JSON.stringify({ msg: `${service} projections rebuilt`, events: count, ms: Date.now() - started }));
  };
  run().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
