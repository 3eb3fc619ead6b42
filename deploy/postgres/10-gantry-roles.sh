#!/bin/sh
# Gantry: a PostgreSQL role per backend service, owner of its schema and nothing else (README "Security").
# GENERATED from libs/platform/src/infra/postgres-roles.ts by `npm run deploy-files`: edit that file.
# docker-compose.yml mounts it into /docker-entrypoint-initdb.d: it runs once, on a fresh volume,
# as the superuser. Idempotent: after changing a GANTRY_DB_*_PASSWORD, or on a volume from before
# the roles existed (it hands the schemas over), run it again:
#   docker compose exec postgres sh /docker-entrypoint-initdb.d/10-gantry-roles.sh
psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v identity_password="${GANTRY_DB_IDENTITY_PASSWORD:?GANTRY_DB_IDENTITY_PASSWORD is not set}" \
  -v assets_password="${GANTRY_DB_ASSETS_PASSWORD:?GANTRY_DB_ASSETS_PASSWORD is not set}" \
  -v ci_runner_password="${GANTRY_DB_CI_RUNNER_PASSWORD:?GANTRY_DB_CI_RUNNER_PASSWORD is not set}" <<'SQL'
BEGIN;
SELECT pg_advisory_xact_lock(hashtext('gantry-service-roles'));
CREATE FUNCTION pg_temp.gantry_service_role(role_name text, role_password text, schema_name text) RETURNS void
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
$fn$;
SELECT pg_temp.gantry_service_role('gantry_identity', :'identity_password', 'identity');
SELECT pg_temp.gantry_service_role('gantry_assets', :'assets_password', 'assets');
SELECT pg_temp.gantry_service_role('gantry_ci', :'ci_runner_password', 'ci');
COMMIT;
SQL
