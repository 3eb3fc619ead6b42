import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { NATS_CONF_PATH, POSTGRES_ROLES_PATH, renderNatsConf, renderPostgresRoles } from './deploy-files';

/** `npm run deploy-files`: writes deploy/nats.conf and deploy/postgres/10-gantry-roles.sh (a test keeps them current). */
for (const [path, text, mode] of [[NATS_CONF_PATH, renderNatsConf(), 0o644], [POSTGRES_ROLES_PATH, renderPostgresRoles(), 0o755]] as const) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  chmodSync(path, mode);
  console.log(`wrote ${path}`);
}
