import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateToken } from '../../libs/contracts/src/tokens';
import { waitFor } from '../../libs/platform/src/testing/wait-for';
import { Api } from '../support/api';
import { call, startGantry, type GantryStack } from '../support/gantry-stack';

/** Issue #15, first slice: what a NATS outage looks like from outside. */
describe('reliability: NATS down', () => {
  let stack: GantryStack;
  let api: Api;

  beforeAll(async () => {
    // A long request timeout: a request that waited for it instead of failing fast would show.
    stack = await startGantry({ env: { GANTRY_NATS_REQUEST_TIMEOUT_MS: '20000' } });
    api = new Api(stack);
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('while NATS is down, a request that needs a service fails at once with 503 (not after the timeout), and /readyz says nats is down', async () => {
    await stack.infra.nats.stop();
    try {
      const ready = await waitFor(async () => {
        const response = await call(`${stack.url}/readyz`);
        return response.status === 503 && response.body.checks.nats === 'down' ? response : null;
      }, { message: '/readyz did not report NATS down' });
      expect(ready.body.status).toBe('not_ready');
      const started = Date.now();
      const refused = await api.get('/api/v1/user', generateToken('pat')); // not cached: identity would be asked
      expect([refused.status, refused.body.error.code]).toEqual([503, 'identity_unavailable']);
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      await stack.infra.nats.restart();
    }
    await waitFor(async () => (await call(`${stack.url}/readyz`)).status === 200, { timeoutMs: 30_000, message: 'not ready again after NATS came back' });
  });
});
