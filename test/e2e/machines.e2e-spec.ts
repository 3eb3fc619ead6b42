import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import pg from 'pg';
import { WhoAmISchema } from '../../libs/contracts/src/principal';
import { generateToken } from '../../libs/contracts/src/tokens';
import { ROUTE_POLICIES } from '../../apps/gateway/src/auth/route-policy';
import { readEventsStream } from '../../libs/platform/src/testing/stream-reader';
import { Api } from '../support/api';
import { call, startGantry, type GantryStack } from '../support/gantry-stack';

describe('install tokens, runners, API keys and leaked-token revocation (two gateways)', () => {
  let stack: GantryStack;
  let a: Api;
  let b: Api;
  let admin: string;
  let db: pg.Client;
  let nc: NatsConnection;
  const secrets: string[] = [];

  const mint = async (body: object = {}) => {
    const response = await a.post('/api/v1/install-tokens', admin, body);
    expect(response.status).toBe(201);
    secrets.push(response.body.token);
    return response.body as { id: string; token: string; expiresAt: string };
  };
  const exchange = (token: string, runnerName = 'builder', labels?: string[]) =>
    b.post('/api/v1/install-tokens/exchange', undefined, labels ? { token, runnerName, labels } : { token, runnerName });

  beforeAll(async () => {
    stack = await startGantry({ gateways: 2 });
    a = new Api(stack);
    b = a.on(stack.urls[1]);
    admin = await a.login(stack.admin.username, stack.admin.password);
    db = new pg.Client({ connectionString: stack.infra.databaseUrl });
    await db.connect();
    nc = await connect({ servers: stack.infra.nats.url, ...stack.infra.nats.admin });
  });
  afterAll(async () => {
    await nc?.close();
    await db?.end();
    await stack?.stop();
  });

  describe('install tokens → runner tokens', () => {
    it('mints a gti_ token once; lists it as pending without the token; members may not mint', async () => {
      const token = await mint({ labels: ['linux'], description: 'rack 3' });
      expect(token.token).toMatch(/^gti_/);
      expect(Date.parse(token.expiresAt) - Date.now()).toBeGreaterThan(14 * 60 * 1000);
      const list = await a.get('/api/v1/install-tokens', admin);
      expect(list.body.items.find((t: { id: string }) => t.id === token.id)).toMatchObject({ status: 'pending', labels: ['linux'], description: 'rack 3' });
      expect(JSON.stringify(list.body)).not.toContain(token.token);
      const member = await a.user(admin, 'no-runners');
      expect((await a.post('/api/v1/install-tokens', member.session, {})).status).toBe(403);
    });

    it('exchanges once for a runner token; a replay → 401 install_token_already_used', async () => {
      const install = await mint({ labels: ['linux'], allowRunnerLabels: true });
      const response = await exchange(install.token, 'builder-1', ['gpu']);
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ runnerName: 'builder-1', labels: ['linux', 'gpu'] });
      expect(response.body.token).toMatch(/^gtr_/);
      secrets.push(response.body.token);
      const replay = await exchange(install.token, 'builder-2');
      expect([replay.status, replay.body.error.code]).toEqual([401, 'install_token_already_used']);
      const listed = (await a.get('/api/v1/install-tokens', admin)).body.items.find((t: { id: string }) => t.id === install.id);
      expect(listed).toMatchObject({ status: 'used', runnerId: response.body.runnerId });
      const me = await a.get('/api/v1/runner', response.body.token);
      expect(me.body).toMatchObject({ id: response.body.runnerId, name: 'builder-1', lastSeenAt: null });
      const beat = await b.post('/api/v1/runner/heartbeat', response.body.token);
      expect(beat.body.lastSeenAt).not.toBeNull();
    });

    it('exchange errors: 400 invalid_request, 401 invalid_install_token (unknown, expired, cancelled)', async () => {
      const valid = await mint();
      const malformed = [{ runnerName: 'x' }, { token: valid.token }, { token: valid.token, runnerName: 'x', extra: 1 }, { token: generateToken('pat'), runnerName: 'x' }, { token: valid.token.slice(0, -1) + 'A', runnerName: 'x' }];
      for (const body of malformed) {
        const response = await b.post('/api/v1/install-tokens/exchange', undefined, body);
        expect([response.status, response.body.error.code]).toEqual([400, 'invalid_request']);
      }
      const unknown = await exchange(generateToken('install'));
      expect([unknown.status, unknown.body.error.code]).toEqual([401, 'invalid_install_token']);
      const expired = await mint();
      await db.query(`UPDATE identity.install_tokens SET expires_at = now() - interval '1 second' WHERE id = $1`, [expired.id]);
      expect((await exchange(expired.token)).body.error.code).toBe('invalid_install_token');
      const cancelled = await mint();
      expect((await a.delete(`/api/v1/install-tokens/${cancelled.id}`, admin)).body.status).toBe('cancelled');
      expect((await exchange(cancelled.token)).body.error.code).toBe('invalid_install_token');
      expect((await a.delete(`/api/v1/install-tokens/${cancelled.id}`, admin)).status).toBe(409);
    });

    it('50 concurrent exchanges of one install token → exactly one 200 and 49 × 401 install_token_already_used', async () => {
      const install = await mint();
      const responses = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 ? a : b).post('/api/v1/install-tokens/exchange', undefined, { token: install.token, runnerName: `racer-${i}` })));
      expect(responses.filter((r) => r.status === 200)).toHaveLength(1);
      const losers = responses.filter((r) => r.status !== 200);
      expect(losers).toHaveLength(49);
      expect(losers.every((r) => r.status === 401 && r.body.error.code === 'install_token_already_used')).toBe(true);
      secrets.push(responses.find((r) => r.status === 200)!.body.token);
      const runners = await db.query(`SELECT count(*)::int AS n FROM identity.runners WHERE name LIKE 'racer-%'`);
      expect(runners.rows[0].n).toBe(1);
    });

    it('an install token works on no other route (401); a runner token only on the runner API (403)', async () => {
      const install = await mint();
      expect((await a.get('/api/v1/user', install.token)).status).toBe(401);
      expect((await a.get('/api/v1/runner', install.token)).status).toBe(401);
      const runner = (await exchange(install.token, 'scoped-runner')).body.token as string;
      secrets.push(runner);
      for (const path of ['/api/v1/user', '/api/v1/user/tokens', '/api/v1/repos', '/api/v1/users', '/api/v1/runners']) {
        const response = await a.get(path, runner);
        expect([path, response.status, response.body.error.code]).toEqual([path, 403, 'forbidden']);
      }
      const pat = await a.pat(admin, ['runners:manage']);
      secrets.push(pat.token);
      expect((await a.get('/api/v1/runner', pat.token)).status).toBe(403);
    });

    it('revoking a runner is refused at the other gateway on the next request; rotation swaps its token', async () => {
      const first = (await exchange((await mint()).token, 'rotating-runner')).body;
      secrets.push(first.token);
      expect((await b.get('/api/v1/runner', first.token)).status).toBe(200);
      const rotated = await a.post(`/api/v1/runners/${first.runnerId}/rotate`, admin);
      expect(rotated.status).toBe(201);
      secrets.push(rotated.body.token);
      const old = await b.get('/api/v1/runner', first.token);
      expect([old.status, old.body.error.code]).toEqual([401, 'token_revoked']);
      expect((await b.get('/api/v1/runner', rotated.body.token)).status).toBe(200);
      const revoked = await a.delete(`/api/v1/runners/${first.runnerId}`, admin);
      expect(revoked.body.revokedAt).not.toBeNull();
      const refused = await b.get('/api/v1/runner', rotated.body.token);
      expect([refused.status, refused.body.error.code]).toEqual([401, 'token_revoked']);
      const list = await a.get('/api/v1/runners', admin);
      expect(list.body.items.find((r: { id: string }) => r.id === first.runnerId)).toMatchObject({ name: 'rotating-runner' });
      expect((await a.get(`/api/v1/runners/${first.runnerId}`, admin)).body.revokedAt).not.toBeNull();
    });
  });

  describe('repository API keys', () => {
    let repoA: { owner: string; name: string };
    let key: { id: string; key: string };

    beforeAll(async () => {
      for (const [name, visibility] of [['key-home', 'private'], ['key-public', 'public'], ['key-private', 'private']]) {
        expect((await a.post('/api/v1/repos', admin, { name, visibility })).status).toBe(201);
      }
      repoA = { owner: 'admin', name: 'key-home' };
      const created = await a.post('/api/v1/repos/admin/key-home/keys', admin, { name: 'deploy', scopes: ['repo:read', 'assets:write'] });
      expect(created.status).toBe(201);
      expect(created.body.key).toMatch(/^gtk_/);
      key = created.body;
      secrets.push(key.key);
    });

    it('works as Bearer or X-Gantry-Key on its own repository; is listed without the key', async () => {
      expect((await a.get('/api/v1/repos/admin/key-home', key.key)).body.fullName).toBe('admin/key-home');
      expect((await b.get('/api/v1/repos/admin/key-home', undefined, { 'x-gantry-key': key.key })).status).toBe(200);
      const me = await a.get('/api/v1/user', key.key);
      expect(me.body).toMatchObject({ kind: 'api_key', user: null, scopes: ['repo:read', 'assets:write'] });
      expect(WhoAmISchema.parse(me.body)).toEqual(me.body);
      const list = await a.get('/api/v1/repos/admin/key-home/keys', admin);
      expect(list.body.items[0]).toMatchObject({ id: key.id, name: 'deploy', prefix: key.key.slice(0, 8) });
      expect(JSON.stringify(list.body)).not.toContain(key.key);
      // A key never administers, nor acts outside repositories.
      expect((await a.patch(`/api/v1/repos/${repoA.owner}/${repoA.name}`, key.key, { description: 'x' })).status).toBe(403);
      expect((await a.get('/api/v1/user/tokens', key.key)).status).toBe(403);
      expect((await a.post('/api/v1/repos/admin/key-home/keys', admin, { name: 'x', scopes: ['users:admin'] })).status).toBe(400);
    });

    it('on another repository, every repository route answers 403 wrong_repository (404 when private)', async () => {
      // Run routes name their repository through a run: ci-jobs.e2e-spec walks them with real runs.
      const repoRoutes = Object.entries(ROUTE_POLICIES).filter(([, policy]) => policy.repoRole && !policy.repoOf);
      expect(repoRoutes.length).toBeGreaterThanOrEqual(8);
      for (const [route] of repoRoutes) {
        const [method, template] = route.split(' ');
        for (const [target, expected] of [['key-public', [403, 'wrong_repository']], ['key-private', [404, 'not_found']]] as const) {
          const path = template.replace(':owner', 'admin').replace(':repo', target).replace(':username', 'admin').replace(':id', '00000000-0000-0000-0000-000000000000');
          const body = method === 'GET' || method === 'DELETE' ? undefined : {};
          const response = await call(`${stack.url}${path}`, { method, token: key.key, body });
          expect([route, target, response.status, response.body.error?.code]).toEqual([route, target, ...expected]);
        }
      }
    });

    it('revoked → 401 token_revoked at both gateways', async () => {
      const created = await a.post('/api/v1/repos/admin/key-home/keys', admin, { name: 'short-lived', scopes: ['repo:read'] });
      secrets.push(created.body.key);
      expect((await b.get('/api/v1/repos/admin/key-home', created.body.key)).status).toBe(200);
      expect((await a.delete(`/api/v1/repos/admin/key-home/keys/${created.body.id}`, admin)).body.revokedAt).not.toBeNull();
      for (const gateway of [b, a]) expect((await gateway.get('/api/v1/repos/admin/key-home', created.body.key)).body.error.code).toBe('token_revoked');
    });

    it('only repository admins manage keys', async () => {
      const member = await a.user(admin, 'key-member');
      await a.put('/api/v1/repos/admin/key-home/members/key-member', admin, { role: 'write' });
      expect((await a.post('/api/v1/repos/admin/key-home/keys', member.session, { name: 'x', scopes: ['repo:read'] })).status).toBe(403);
      expect((await a.get('/api/v1/repos/admin/key-home/keys', member.session)).status).toBe(403);
    });
  });

  describe('leaked-token revocation', () => {
    it('kills leaked gtp_, gtr_ and gtk_ tokens at every gateway, answers 202 without saying which existed', async () => {
      const pat = await a.pat(admin);
      const runner = (await exchange((await mint()).token, 'leaky-runner')).body.token as string;
      const key = (await a.post('/api/v1/repos/admin/key-home/keys', admin, { name: 'leaky', scopes: ['repo:read'] })).body.key as string;
      secrets.push(pat.token, runner, key);
      for (const token of [pat.token, key]) expect((await b.get('/api/v1/repos/admin/key-home', token)).status).toBe(200);
      const report = await call(`${stack.urls[1]}/api/v1/credentials/revoke`, { method: 'POST', body: { tokens: [pat.token, runner, key, 'garbage', generateToken('pat')] } });
      expect([report.status, report.body]).toEqual([202, {}]);
      const nothing = await call(`${stack.url}/api/v1/credentials/revoke`, { method: 'POST', body: { tokens: [generateToken('pat')] } });
      expect([nothing.status, nothing.body]).toEqual([202, {}]); // same answer when nothing matched
      for (const gateway of [a, b]) {
        expect((await gateway.get('/api/v1/user', pat.token)).body.error.code).toBe('token_revoked');
        expect((await gateway.get('/api/v1/runner', runner)).body.error.code).toBe('token_revoked');
        expect((await gateway.get('/api/v1/repos/admin/key-home', key)).body.error.code).toBe('token_revoked');
      }
      expect((await call(`${stack.url}/api/v1/credentials/revoke`, { method: 'POST', body: { tokens: [] } })).status).toBe(400);
    });
  });

  it('every machine-credential change is an event, and no raw token is on the stream or in the logs', async () => {
    const events = await readEventsStream(nc);
    const types = new Set(events.map((e) => e.type));
    for (const type of [
      'identity.install_token.minted', 'identity.install_token.exchanged', 'identity.install_token.cancelled',
      'identity.runner.registered', 'identity.runner.revoked', 'identity.runner.rotated',
      'identity.api_key.created', 'identity.api_key.revoked', 'identity.credential.revoked_as_leaked',
    ]) expect([type, types.has(type)]).toEqual([type, true]);
    const leak = events.find((e) => e.type === 'identity.credential.revoked_as_leaked')!;
    expect(leak.data).toMatchObject({ submitted: 4 });
    const text = JSON.stringify(events) + stack.logs();
    expect(secrets.filter((secret) => text.includes(secret))).toEqual([]);
  });
});
