import { describe, expect, it } from '@jest/globals';
import type { ServiceCredentials } from '../infra/service-credentials';
import { serviceEnv, withCredentials } from './service-env';

const credentials: ServiceCredentials = {
  nats: {
    identity: { user: 'identity', pass: 'n-id' }, assets: { user: 'assets', pass: 'n-as' },
    'ci-runner': { user: 'ci-runner', pass: 'n-ci' }, gateway: { user: 'gateway', pass: 'n-gw' },
  },
  databaseUrls: {
    identity: 'postgres://gantry_identity:d-id@127.0.0.1:5432/gantry',
    assets: 'postgres://gantry_assets:d-as@127.0.0.1:5432/gantry',
    'ci-runner': 'postgres://gantry_ci:d-ci@127.0.0.1:5432/gantry',
  },
};
const env = serviceEnv({
  natsUrl: 'nats://127.0.0.1:4222', databaseUrl: 'postgres://gantry@127.0.0.1:5432/gantry',
  s3: { endpoint: 'http://127.0.0.1:9000', accessKey: 'k', secretKey: 's', bucket: 'gantry' }, admin: { username: 'admin', password: 'p'.repeat(12) },
});

describe('withCredentials (what each launched service gets of its own)', () => {
  it('gives a backend service its NATS user and the database URL of its role, never the superuser\'s', () => {
    expect(withCredentials(env, 'assets', credentials)).toMatchObject({
      GANTRY_NATS_URL: 'nats://127.0.0.1:4222', GANTRY_NATS_USER: 'assets', GANTRY_NATS_PASSWORD: 'n-as',
      GANTRY_DATABASE_URL: 'postgres://gantry_assets:d-as@127.0.0.1:5432/gantry',
    });
    expect(withCredentials(env, 'ci-runner', credentials).GANTRY_DATABASE_URL).toBe(credentials.databaseUrls['ci-runner']);
  });

  it('gives the gateway its NATS user and no database URL at all', () => {
    const gateway = withCredentials(env, 'gateway', credentials);
    expect(gateway).toMatchObject({ GANTRY_NATS_USER: 'gateway', GANTRY_NATS_PASSWORD: 'n-gw' });
    expect('GANTRY_DATABASE_URL' in gateway).toBe(false);
    expect(env.GANTRY_DATABASE_URL).toBe('postgres://gantry@127.0.0.1:5432/gantry'); // the shared env is left alone
  });
});
