import { NATS_SERVICE_USERS, natsAuthorizationBlock, type NatsServiceUser } from '../libs/platform/src/infra/nats-permissions';
import { DATABASE_SERVICES, SERVICE_ROLE_FUNCTION_SQL, SERVICE_SCHEMAS, serviceRoleName, type DatabaseService } from '../libs/platform/src/infra/postgres-roles';

/**
 * The committed files docker compose mounts, rendered from the same tables the launcher uses:
 * deploy/nats.conf (NATS users and permissions) and deploy/postgres/10-gantry-roles.sh (a role
 * per service). `npm run deploy-files` writes them; deploy-files.spec.ts fails when they are stale.
 */
export const NATS_CONF_PATH = 'deploy/nats.conf';
export const POSTGRES_ROLES_PATH = 'deploy/postgres/10-gantry-roles.sh';

/** `GANTRY_NATS_IDENTITY_PASSWORD`, `GANTRY_NATS_CI_RUNNER_PASSWORD`, … */
export function natsPasswordVariable(user: NatsServiceUser): string {
  return `GANTRY_NATS_${user.toUpperCase().replace(/-/g, '_')}_PASSWORD`;
}

/** `GANTRY_DB_IDENTITY_PASSWORD`, `GANTRY_DB_CI_RUNNER_PASSWORD`, … */
export function databasePasswordVariable(service: DatabaseService): string {
  return `GANTRY_DB_${service.toUpperCase().replace(/-/g, '_')}_PASSWORD`;
}

export function renderNatsConf(): string {
  const passwords = Object.fromEntries(NATS_SERVICE_USERS.map((user) => [user, { env: natsPasswordVariable(user) }]));
  return [
    '# NATS users of a Gantry installation: one per service, with subject allow-lists (README "Security").',
    '# GENERATED from libs/platform/src/infra/nats-permissions.ts by `npm run deploy-files`: edit that table.',
    '# docker-compose.yml mounts it into the nats container (`-c`). Each password is read from the',
    "# server's environment ($GANTRY_NATS_<SERVICE>_PASSWORD); nats-server does not start without it.",
    "# nats-server parses the value: use letters, digits, '-' and '_', not digits only.",
    '# TLS: add a `tls { cert_file, key_file }` block here and use tls:// in GANTRY_NATS_URL (README).',
    natsAuthorizationBlock(passwords),
  ].join('\n');
}

export function renderPostgresRoles(): string {
  const variable = (service: DatabaseService) => `${service.replace(/-/g, '_')}_password`;
  return [
    '#!/bin/sh',
    '# Gantry: a PostgreSQL role per backend service, owner of its schema and nothing else (README "Security").',
    '# GENERATED from libs/platform/src/infra/postgres-roles.ts by `npm run deploy-files`: edit that file.',
    '# docker-compose.yml mounts it into /docker-entrypoint-initdb.d: it runs once, on a fresh volume,',
    '# as the superuser. Idempotent: after changing a GANTRY_DB_*_PASSWORD, or on a volume from before',
    '# the roles existed (it hands the schemas over), run it again:',
    `#   docker compose exec postgres sh /docker-entrypoint-initdb.d/${POSTGRES_ROLES_PATH.split('/').pop()}`,
    'psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \\',
    ...DATABASE_SERVICES.map((service, i) => {
      const name = databasePasswordVariable(service);
      return `  -v ${variable(service)}="\${${name}:?${name} is not set}"${i < DATABASE_SERVICES.length - 1 ? ' \\' : " <<'SQL'"}`;
    }),
    'BEGIN;',
    "SELECT pg_advisory_xact_lock(hashtext('gantry-service-roles'));",
    SERVICE_ROLE_FUNCTION_SQL,
    ...DATABASE_SERVICES.map((service) => `SELECT pg_temp.gantry_service_role('${serviceRoleName(service)}', :'${variable(service)}', '${SERVICE_SCHEMAS[service]}');`),
    'COMMIT;',
    'SQL',
    '',
  ].join('\n');
}
