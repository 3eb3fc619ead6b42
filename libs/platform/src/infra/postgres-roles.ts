import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * Each backend service logs in to PostgreSQL as its own role, which owns its schema and nothing
 * else: it can neither read another service's tables nor create objects outside its schema
 * (README "Security"). The gateway has no database access at all.
 */
export const SERVICE_SCHEMAS = { identity: 'identity', assets: 'assets', 'ci-runner': 'ci' } as const;
export type DatabaseService = keyof typeof SERVICE_SCHEMAS;
export const DATABASE_SERVICES = Object.keys(SERVICE_SCHEMAS) as DatabaseService[];

/** Role names: `gantry_identity`, `gantry_assets`, `gantry_ci` (test files use their own prefix). */
export const DEFAULT_ROLE_PREFIX = 'gantry_';

export function serviceRoleName(service: DatabaseService, prefix = DEFAULT_ROLE_PREFIX): string {
  return `${prefix}${SERVICE_SCHEMAS[service]}`;
}

/**
 * Run as a superuser in the service's database; idempotent. Creates the login role (or resets its
 * password and strips any attribute beyond LOGIN), lets it connect, and makes it the owner of its
 * schema — creating the schema, or handing over one made before services had roles, with every
 * table, view, sequence and routine in it. Also takes CREATE on `public` from PUBLIC (already so
 * since PostgreSQL 15). deploy/postgres/10-gantry-roles.sh (compose) carries the same text.
 */
export const SERVICE_ROLE_FUNCTION_SQL = `CREATE FUNCTION pg_temp.gantry_service_role(role_name text, role_password text, schema_name text) RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE
  schema_owner text;
  item record;
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = role_name) THEN
    EXECUTE format('CREATE ROLE %I LOGIN', role_name);
  END IF;
  EXECUTE format('ALTER ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD %L', role_name, role_password);
  EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), role_name);
  REVOKE CREATE ON SCHEMA public FROM PUBLIC;
  SELECT pg_get_userbyid(nspowner) INTO schema_owner FROM pg_namespace WHERE nspname = schema_name;
  IF schema_owner IS NULL THEN
    EXECUTE format('CREATE SCHEMA %I AUTHORIZATION %I', schema_name, role_name);
  ELSIF schema_owner <> role_name THEN
    EXECUTE format('ALTER SCHEMA %I OWNER TO %I', schema_name, role_name);
    FOR item IN
      SELECT c.oid::regclass AS name, c.relkind FROM pg_class c
      WHERE c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = schema_name)
        AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
        -- serial and identity sequences follow their table
        AND NOT (c.relkind = 'S' AND EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i')))
    LOOP
      EXECUTE format('ALTER %s %s OWNER TO %I',
        CASE item.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END,
        item.name, role_name);
    END LOOP;
    FOR item IN SELECT p.oid::regprocedure AS name FROM pg_proc p WHERE p.pronamespace = (SELECT oid FROM pg_namespace WHERE nspname = schema_name) LOOP
      EXECUTE format('ALTER ROUTINE %s OWNER TO %I', item.name, role_name);
    END LOOP;
  END IF;
END
$fn$;`;

export interface ServiceRole {
  role: string;
  password: string;
  /** The database URL with this role's credentials. */
  url: string;
}

export interface ServiceRolesOptions {
  /** Role name prefix (default `gantry_`): test files sharing one server each use their own. */
  prefix?: string;
  /** Passwords of the roles; the ones not given are random, new on every call. */
  passwords?: Partial<Record<DatabaseService, string>>;
}

/**
 * Creates (or updates) the three service roles and their schemas in the database of
 * `databaseUrl`, a superuser URL; returns each service's URL. One transaction, under an advisory
 * lock, so concurrent callers on one database do not trip over each other.
 */
export async function createServiceRoles(databaseUrl: string, options: ServiceRolesOptions = {}): Promise<Record<DatabaseService, ServiceRole>> {
  const roles = Object.fromEntries(
    DATABASE_SERVICES.map((service) => {
      const role = serviceRoleName(service, options.prefix);
      const password = options.passwords?.[service] ?? randomBytes(18).toString('base64url');
      const url = new URL(databaseUrl);
      url.username = role;
      url.password = encodeURIComponent(password);
      return [service, { role, password, url: url.toString() }];
    }),
  ) as Record<DatabaseService, ServiceRole>;
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 10000 });
  await client.connect();
  try {
    await client.query('BEGIN');
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('gantry-service-roles'))`);
    await client.query(SERVICE_ROLE_FUNCTION_SQL);
    for (const service of DATABASE_SERVICES) {
      await client.query('SELECT pg_temp.gantry_service_role($1, $2, $3)', [roles[service].role, roles[service].password, SERVICE_SCHEMAS[service]]);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    await client.end();
  }
  return roles;
}

/** Drops the roles of `prefix` (after their database was dropped: they must own nothing). */
export async function dropServiceRoles(serverUrl: string, prefix: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: 10000 });
  await client.connect();
  try {
    for (const service of DATABASE_SERVICES) await client.query(`DROP ROLE IF EXISTS ${client.escapeIdentifier(serviceRoleName(service, prefix))}`);
  } finally {
    await client.end();
  }
}
