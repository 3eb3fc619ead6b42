import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateToken } from '../../libs/contracts/src/tokens';
import { Api } from '../support/api';
import { startGantry, type GantryStack } from '../support/gantry-stack';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('rate limits (per gateway instance)', () => {
  let stack: GantryStack;
  let api: Api;
  let admin: string;

  beforeAll(async () => {
    stack = await startGantry({
      env: {
        GANTRY_RATE_LIMIT_PER_SECOND: '2', GANTRY_RATE_LIMIT_BURST: '5',
        GANTRY_RATE_LIMIT_ANON_PER_SECOND: '1', GANTRY_RATE_LIMIT_ANON_BURST: '8',
        GANTRY_LOGIN_FREE_ATTEMPTS: '3',
      },
    });
    api = new Api(stack);
    admin = await api.login(stack.admin.username, stack.admin.password);
  });
  afterAll(async () => stack?.stop());

  it('per credential: 429 rate_limited with Retry-After, then recovery after waiting it out', async () => {
    const pat = await api.pat(admin);
    const statuses: number[] = [];
    let limited;
    for (let i = 0; i < 10 && !limited; i++) {
      const response = await api.get('/api/v1/user', pat.token);
      statuses.push(response.status);
      if (response.status === 429) limited = response;
    }
    expect(statuses.slice(0, 5).every((s) => s === 200)).toBe(true);
    expect(limited!.body.error.code).toBe('rate_limited');
    const retryAfter = Number(limited!.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    // Another credential is not affected.
    expect((await api.get('/api/v1/user', (await api.pat(await api.login(stack.admin.username, stack.admin.password))).token)).status).toBe(200);
    await sleep(retryAfter * 1000);
    expect((await api.get('/api/v1/user', pat.token)).status).toBe(200);
  });

  it('login: per username + IP backoff after the free attempts; the right password then waits too', async () => {
    const user = await api.user(admin, 'guessed');
    const attempt = (password: string) => api.post('/api/v1/auth/login', undefined, { username: 'guessed', password });
    for (let i = 0; i < 3; i++) expect((await attempt('wrong-password-' + i)).status).toBe(401);
    expect((await attempt('wrong-password-x')).status).toBe(401); // first failure past the free ones: backoff starts
    const blocked = await attempt(user.password);
    expect([blocked.status, blocked.body.error.code]).toEqual([429, 'rate_limited']);
    await sleep(Number(blocked.headers.get('retry-after')) * 1000);
    expect((await attempt(user.password)).status).toBe(200);
  });

  it('anonymous callers are limited per IP on the exchange; guessing tokens turns 401s into 429s', async () => {
    let exchange;
    for (let i = 0; i < 20; i++) {
      exchange = await api.post('/api/v1/install-tokens/exchange', undefined, { token: generateToken('install'), runnerName: 'x' });
      if (exchange.status === 429) break;
    }
    expect([exchange!.status, exchange!.body.error.code]).toEqual([429, 'rate_limited']);
    expect(Number(exchange!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    let guess;
    for (let i = 0; i < 20; i++) {
      guess = await api.get('/api/v1/user', generateToken('pat'));
      if (guess.status === 429) break;
    }
    expect(guess!.status).toBe(429);
    await sleep(Number(guess!.headers.get('retry-after')) * 1000);
    expect((await api.get('/api/v1/user', generateToken('pat'))).status).toBe(401);
    // Refused before any lookup (no credential at all) counts too.
    let anonymous;
    for (let i = 0; i < 20; i++) {
      anonymous = await api.get('/api/v1/user');
      if (anonymous.status === 429) break;
    }
    expect(anonymous!.status).toBe(429);
  });
});
