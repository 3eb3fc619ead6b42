import { describe, expect, it } from '@jest/globals';
import { readFileSync, statSync } from 'node:fs';
import { NATS_CONF_PATH, POSTGRES_ROLES_PATH, renderNatsConf, renderPostgresRoles } from './deploy-files';

describe('deploy files (compose mounts them)', () => {
  it('deploy/nats.conf is rendered from nats-permissions.ts (run `npm run deploy-files` after changing it)', () => {
    expect(readFileSync(NATS_CONF_PATH, 'utf8')).toBe(renderNatsConf());
  });

  it('deploy/postgres/10-gantry-roles.sh is rendered from postgres-roles.ts (run `npm run deploy-files` after changing it)', () => {
    expect(readFileSync(POSTGRES_ROLES_PATH, 'utf8')).toBe(renderPostgresRoles());
    expect(statSync(POSTGRES_ROLES_PATH).mode & 0o111).not.toBe(0); // executable: the image runs it rather than sourcing it
  });

  it('keeps every password out of the files: nats-server and psql read them from the environment', () => {
    const nats = readFileSync(NATS_CONF_PATH, 'utf8');
    expect(nats.match(/password: .*/g)).toEqual([
      'password: $GANTRY_NATS_IDENTITY_PASSWORD',
      'password: $GANTRY_NATS_ASSETS_PASSWORD',
      'password: $GANTRY_NATS_CI_RUNNER_PASSWORD',
      'password: $GANTRY_NATS_GATEWAY_PASSWORD',
    ]);
    expect(nats).not.toContain('"admin"');
    expect(readFileSync(POSTGRES_ROLES_PATH, 'utf8')).toContain(`-v identity_password="\${GANTRY_DB_IDENTITY_PASSWORD:?`);
  });
});
