import pg from 'pg';
import { DataSource, type MigrationInterface } from 'typeorm';
import { quoteIdent } from './database';

export type MigrationClass = new () => MigrationInterface;

/**
 * Runs a service's TypeORM migrations in its own schema (never `synchronize`). An advisory lock
 * makes concurrent starts of several replicas safe: one migrates, the others wait and find nothing
 * left to do.
 */
export async function runMigrations(url: string, schema: string, migrations: MigrationClass[]): Promise<string[]> {
  const lock = new pg.Client({ connectionString: url });
  // The lock connection idles while TypeORM migrates; if the database goes away meanwhile, the
  // migration itself fails. Without a listener the lost connection would crash the process instead.
  lock.on('error', () => undefined);
  await lock.connect();
  try {
    await lock.query('SELECT pg_advisory_lock(hashtext($1))', [`gantry-migrations:${schema}`]);
    // A service's role owns its schema (the launcher or compose made it) and may not create
    // schemas: create it only when missing (a superuser URL, e.g. in tests).
    const exists = await lock.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    if (!exists.rowCount) await lock.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
    const dataSource = new DataSource({
      type: 'postgres',
      url,
      schema,
      migrations,
      migrationsTableName: 'migrations',
      migrationsTransactionMode: 'each',
      extra: { options: `-c search_path=${quoteIdent(schema)}` },
      logging: false,
    });
    await dataSource.initialize();
    try {
      const applied = await dataSource.runMigrations({ transaction: 'each' });
      return applied.map((migration) => migration.name);
    } finally {
      await dataSource.destroy();
    }
  } finally {
    await lock.end();
  }
}
