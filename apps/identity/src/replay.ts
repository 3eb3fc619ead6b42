import 'reflect-metadata';
import { loadConfig, DatabaseConfigSchema, replayProjections } from '#platform';
import { IDENTITY_PROJECTIONS, IDENTITY_SCHEMA } from './app.module';
import { IDENTITY_MIGRATIONS } from './migrations';

/** `npm run replay:identity`: rebuilds identity's read models from its events. */
async function main(): Promise<void> {
  const config = loadConfig(DatabaseConfigSchema);
  const started = Date.now();
  const count = await replayProjections({
    url: config.GANTRY_DATABASE_URL,
    schema: IDENTITY_SCHEMA,
    migrations: IDENTITY_MIGRATIONS,
    projections: IDENTITY_PROJECTIONS.map((Projection) => new Projection()),
  });
  console.log(JSON.stringify({ msg: 'identity projections rebuilt', events: count, ms: Date.now() - started }));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
