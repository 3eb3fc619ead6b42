import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHmac, randomUUID } from 'node:crypto';
import pg from 'pg';
import { waitFor } from '../../libs/platform/src/testing/wait-for';
import { Api } from '../support/api';
import { Ci } from '../support/ci';
import { call, startGantry, type GantryStack } from '../support/gantry-stack';
import { rawHttp, statusOf } from '../support/raw-http';

/** `Idempotency-Key` on the creating POSTs, through the gateway to identity and the ci-runner. */
describe('Idempotency-Key', () => {
  let stack: GantryStack;
  let api: Api;
  let ci: Ci;
  let admin: string;
  let db: pg.Client;
  /** Every secret a response carried: none may reach a log. */
  const secrets: string[] = [];

  const post = (path: string, token: string, body: unknown, key?: string) =>
    call(`${stack.url}${path}`, { method: 'POST', token, body, headers: key === undefined ? {} : { 'idempotency-key': key } });
  const count = async (sql: string, params: unknown[]) => Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM (${sql}) q`, params)).rows[0].n);

  beforeAll(async () => {
    stack = await startGantry();
    api = new Api(stack);
    ci = new Ci(api);
    admin = await api.login(stack.admin.username, stack.admin.password);
    secrets.push(admin, stack.admin.password);
    db = new pg.Client({ connectionString: stack.infra.databaseUrl });
    await db.connect();
  });
  afterAll(async () => {
    await db?.end();
    await stack?.stop();
  });

  it('PAT create: the same key and body return the first token; one PAT, one event', async () => {
    const key = randomUUID();
    const body = { name: 'idem-pat', scopes: ['repo:read'] };
    const first = await post('/api/v1/user/tokens', admin, body, key);
    expect(first.status).toBe(201);
    secrets.push(first.body.token);
    const again = await post('/api/v1/user/tokens', admin, body, key);
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(await count(`SELECT 1 FROM identity.pats WHERE name = 'idem-pat'`, [])).toBe(1);
    expect(await count(`SELECT 1 FROM identity.events WHERE type = 'identity.pat.created' AND data->>'tokenId' = $1`, [first.body.id])).toBe(1);
    // The token works: it is the one that was created.
    expect((await api.get('/api/v1/user', first.body.token)).status).toBe(200);
    // Stored sealed: the database never holds the token in clear under the key.
    const stored = await db.query<{ sealed: boolean; response: Buffer }>('SELECT sealed, response FROM identity.idempotency_keys WHERE key = $1', [key]);
    expect(stored.rows).toHaveLength(1);
    expect(stored.rows[0].sealed).toBe(true);
    expect(stored.rows[0].response.toString('latin1')).not.toContain(first.body.token);
  });

  it('the same key with a different body (or another endpoint) is 409 idempotency_key_reused', async () => {
    const key = randomUUID();
    expect((await post('/api/v1/user/tokens', admin, { name: 'reuse-a', scopes: ['repo:read'] }, key)).status).toBe(201);
    const other = await post('/api/v1/user/tokens', admin, { name: 'reuse-b', scopes: ['repo:read'] }, key);
    expect(other.status).toBe(409);
    expect(other.body.error).toMatchObject({ code: 'idempotency_key_reused', field: 'Idempotency-Key' });
    expect(await count(`SELECT 1 FROM identity.pats WHERE name = 'reuse-b'`, [])).toBe(0);
    // Another endpoint of the same service, same key: also a different request.
    const repo = await post('/api/v1/repos', admin, { name: 'reuse-repo', visibility: 'private' }, key);
    expect(repo.status).toBe(409);
    expect(repo.body.error.code).toBe('idempotency_key_reused');
  });

  it('a secret goes back only to the credential that made it: another session of the same user gets 409', async () => {
    const key = randomUUID();
    const body = { name: 'sealed-pat', scopes: ['repo:read'] };
    const first = await post('/api/v1/user/tokens', admin, body, key);
    expect(first.status).toBe(201);
    secrets.push(first.body.token);
    const otherSession = await api.login(stack.admin.username, stack.admin.password);
    secrets.push(otherSession);
    const other = await post('/api/v1/user/tokens', otherSession, body, key);
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('idempotency_key_other_credential');
    expect(JSON.stringify(other.body)).not.toContain(first.body.token);
    expect(await count(`SELECT 1 FROM identity.pats WHERE name = 'sealed-pat'`, [])).toBe(1);
  });

  it('install tokens: another PAT of the same user gets 409 idempotency_key_other_credential; the same PAT gets the token', async () => {
    const patA = await api.pat(admin, ['runners:manage'], 'runners-a');
    const patB = await api.pat(admin, ['runners:manage'], 'runners-b');
    secrets.push(patA.token, patB.token);
    const key = randomUUID();
    const first = await post('/api/v1/install-tokens', patA.token, { description: 'idem' }, key);
    expect(first.status).toBe(201);
    secrets.push(first.body.token);
    expect(await post('/api/v1/install-tokens', patA.token, { description: 'idem' }, key)).toMatchObject({ status: 201, body: first.body });
    const other = await post('/api/v1/install-tokens', patB.token, { description: 'idem' }, key);
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('idempotency_key_other_credential');
    expect(await count(`SELECT 1 FROM identity.install_tokens WHERE description = 'idem'`, [])).toBe(1);
  });

  it('keys are per principal: another user with the same key creates their own', async () => {
    const bob = await api.user(admin, `bob-${randomUUID().slice(0, 8)}`);
    secrets.push(bob.session, bob.password);
    const key = randomUUID();
    const mine = await post('/api/v1/user/tokens', admin, { name: 'per-principal', scopes: ['repo:read'] }, key);
    const theirs = await post('/api/v1/user/tokens', bob.session, { name: 'per-principal', scopes: ['repo:read'] }, key);
    expect([mine.status, theirs.status]).toEqual([201, 201]);
    secrets.push(mine.body.token, theirs.body.token);
    expect(theirs.body.id).not.toBe(mine.body.id);
  });

  it('user create with a generated password: the replay returns the same user and password', async () => {
    const key = randomUUID();
    const body = { username: `idem-${randomUUID().slice(0, 8)}`, role: 'member' };
    const first = await post('/api/v1/users', admin, body, key);
    expect(first.status).toBe(201);
    expect(first.body.generatedPassword).toEqual(expect.any(String));
    secrets.push(first.body.generatedPassword);
    const again = await post('/api/v1/users', admin, body, key);
    expect(again).toMatchObject({ status: 201, body: first.body });
    expect((await call(`${stack.url}/api/v1/auth/login`, { method: 'POST', body: { username: body.username, password: first.body.generatedPassword } })).status).toBe(200);
  });

  it('repo create and API key create: a replay returns the same repository and the same key', async () => {
    const key = randomUUID();
    const body = { name: 'idem-repo', visibility: 'private' };
    const first = await post('/api/v1/repos', admin, body, key);
    expect(first.status).toBe(201);
    expect(await post('/api/v1/repos', admin, body, key)).toMatchObject({ status: 201, body: first.body });
    expect(await count(`SELECT 1 FROM identity.repos WHERE name = 'idem-repo'`, [])).toBe(1);
    // Without the key, the same body is a second create: refused as a duplicate name, as before.
    expect((await post('/api/v1/repos', admin, body)).status).toBe(409);

    const keyKey = randomUUID();
    const created = await post(`/api/v1/repos/${first.body.fullName}/keys`, admin, { name: 'deploy', scopes: ['repo:read'] }, keyKey);
    expect(created.status).toBe(201);
    secrets.push(created.body.token);
    expect(await post(`/api/v1/repos/${first.body.fullName}/keys`, admin, { name: 'deploy', scopes: ['repo:read'] }, keyKey)).toMatchObject({ status: 201, body: created.body });
    expect(await count(`SELECT 1 FROM identity.api_keys WHERE repo_id = $1`, [first.body.id])).toBe(1);
  });

  it('run trigger: a replay returns the same run and queues no second one', async () => {
    const repo = (await ci.repo(admin, 'idem-ci')).fullName;
    await ci.job(admin, repo, 'hello', { steps: [{ name: 'hi', run: 'echo hi' }] });
    const key = randomUUID();
    const first = await post(`/api/v1/repos/${repo}/jobs/hello/runs`, admin, {}, key);
    expect(first.status).toBe(201);
    await ci.until(admin, first.body.id);
    const again = await post(`/api/v1/repos/${repo}/jobs/hello/runs`, admin, {}, key);
    expect(again.status).toBe(201);
    // The first response as it was (queued), not the run's state now.
    expect(again.body).toEqual(first.body);
    expect(await count(`SELECT 1 FROM ci.runs WHERE job = 'hello'`, [])).toBe(1);
    expect(await count(`SELECT 1 FROM ci.events WHERE type = 'ci.run.queued' AND data->>'runId' = $1`, [first.body.id])).toBe(1);
    // Different params under the same key: a different request.
    expect((await post(`/api/v1/repos/${repo}/jobs/hello/runs`, admin, { params: { a: 'b' } }, key)).body.error?.code).toBe('idempotency_key_reused');
  });

  it('PAT and runner rotation: a retry gets the first rotation\'s token instead of a conflict or a second rotation', async () => {
    const pat = await api.pat(admin, ['repo:read'], 'rotate-me');
    const key = randomUUID();
    const first = await post(`/api/v1/user/tokens/${pat.id}/rotate`, admin, undefined, key);
    expect(first.status).toBe(201);
    secrets.push(pat.token, first.body.token);
    expect(await post(`/api/v1/user/tokens/${pat.id}/rotate`, admin, undefined, key)).toMatchObject({ status: 201, body: first.body });
    expect((await post(`/api/v1/user/tokens/${pat.id}/rotate`, admin, undefined)).status).toBe(409);
    expect(await count(`SELECT 1 FROM identity.pats WHERE name = 'rotate-me'`, [])).toBe(2);

    const install = await post('/api/v1/install-tokens', admin, {});
    const runner = await call(`${stack.url}/api/v1/install-tokens/exchange`, { method: 'POST', body: { token: install.body.token, runnerName: 'idem-runner' } });
    expect(runner.status).toBe(200);
    secrets.push(install.body.token, runner.body.token);
    const rotateKey = randomUUID();
    const rotated = await post(`/api/v1/runners/${runner.body.runnerId}/rotate`, admin, undefined, rotateKey);
    expect(rotated.status).toBe(201);
    secrets.push(rotated.body.token);
    expect(await post(`/api/v1/runners/${runner.body.runnerId}/rotate`, admin, undefined, rotateKey)).toMatchObject({ status: 201, body: rotated.body });
    expect(await count(`SELECT 1 FROM identity.events WHERE type = 'identity.runner.rotated' AND data->>'runnerId' = $1`, [runner.body.runnerId])).toBe(1);
    expect((await api.get('/api/v1/runner', rotated.body.token)).status).toBe(200);
  });

  it('asset upload: a retry gets the first response (even with If-None-Match: *), no second asset; other bytes are 409', async () => {
    const repo = await ci.repo(admin, 'idem-assets');
    const url = `${stack.url}/api/v1/repos/${repo.fullName}/assets/dist/app.bin`;
    const put = async (bytes: string, key: string, headers: Record<string, string> = {}) => {
      const response = await fetch(url, { method: 'PUT', body: bytes, headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/octet-stream', 'idempotency-key': key, ...headers } });
      return { status: response.status, body: await response.json() as any };
    };
    const key = randomUUID();
    const first = await put('hello', key, { 'if-none-match': '*' });
    expect(first.status).toBe(201);
    const again = await put('hello', key, { 'if-none-match': '*' });
    expect(again).toEqual(first);
    // Without the key the same retry is refused: the asset exists now.
    expect((await put('hello', randomUUID(), { 'if-none-match': '*' })).status).toBe(412);
    const other = await put('HELLO', key, { 'if-none-match': '*' });
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('idempotency_key_reused');
    expect(await count(`SELECT 1 FROM assets.events WHERE type LIKE 'assets.asset.%' AND data->>'path' = 'dist/app.bin'`, [])).toBe(1);
    // The retries' own uploads are forgotten, not left pending.
    await waitFor(async () => (await count('SELECT 1 FROM assets.uploads WHERE repo_id = $1', [repo.id])) === 0 || null, { message: 'pending uploads left' });
    const download = await fetch(url, { headers: { authorization: `Bearer ${admin}` } });
    expect(await download.text()).toBe('hello');
  });

  it('refuses a malformed or repeated header with 400 and creates nothing', async () => {
    const tooLong = await post('/api/v1/user/tokens', admin, { name: 'bad-key', scopes: ['repo:read'] }, 'k'.repeat(256));
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error).toMatchObject({ code: 'invalid_request', field: 'Idempotency-Key' });
    expect((await post('/api/v1/user/tokens', admin, { name: 'bad-key', scopes: ['repo:read'] }, 'k'.repeat(255))).status).toBe(201);
    const body = JSON.stringify({ name: 'bad-key-raw', scopes: ['repo:read'] });
    const head = (keys: string[]) => [
      'POST /api/v1/user/tokens HTTP/1.1', `Host: ${new URL(stack.url).host}`, `Authorization: Bearer ${admin}`, 'Content-Type: application/json',
      `Content-Length: ${Buffer.byteLength(body)}`, ...keys.map((k) => `Idempotency-Key: ${k}`), 'Connection: close',
    ].join('\n');
    const repeated = await rawHttp(stack.url, head(['one', 'two']), Buffer.from(body));
    expect(statusOf(repeated)).toBe(400);
    expect(repeated).toContain('Idempotency-Key');
    const nonAscii = await rawHttp(stack.url, head([Buffer.from('cl\u00e9', 'latin1').toString('latin1')]), Buffer.from(body));
    expect(statusOf(nonAscii)).toBe(400);
    expect(await count(`SELECT 1 FROM identity.pats WHERE name = 'bad-key-raw'`, [])).toBe(0);
  });

  it('without the header nothing changes: two requests create two tokens; on an anonymous route the header is ignored', async () => {
    const one = await post('/api/v1/user/tokens', admin, { name: 'no-key', scopes: ['repo:read'] });
    const two = await post('/api/v1/user/tokens', admin, { name: 'no-key', scopes: ['repo:read'] });
    expect([one.status, two.status]).toEqual([201, 201]);
    secrets.push(one.body.token, two.body.token);
    expect(two.body.id).not.toBe(one.body.id);
    const key = randomUUID();
    const loginBody = { username: stack.admin.username, password: stack.admin.password };
    const loginA = await call(`${stack.url}/api/v1/auth/login`, { method: 'POST', body: loginBody, headers: { 'idempotency-key': key } });
    const loginB = await call(`${stack.url}/api/v1/auth/login`, { method: 'POST', body: loginBody, headers: { 'idempotency-key': key } });
    expect([loginA.status, loginB.status]).toEqual([200, 200]);
    secrets.push(loginA.body.token, loginB.body.token);
    expect(loginB.body.token).not.toBe(loginA.body.token);
  });

  it('10 concurrent identical requests with one key: one PAT, every answer 201 with the same body', async () => {
    const key = randomUUID();
    const body = { name: 'concurrent-pat', scopes: ['repo:read'] };
    const answers = await Promise.all(Array.from({ length: 10 }, () => post('/api/v1/user/tokens', admin, body, key)));
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(201));
    for (const answer of answers) expect(answer.body).toEqual(answers[0].body);
    secrets.push(answers[0].body.token);
    expect(await count(`SELECT 1 FROM identity.pats WHERE name = 'concurrent-pat'`, [])).toBe(1);
  });

  it('no secret, and no seal key, ever reaches a service log', async () => {
    // The seal key a test can derive (it holds the session): it must not be logged either.
    const key = randomUUID();
    expect((await post('/api/v1/user/tokens', admin, { name: 'log-check', scopes: ['repo:read'] }, key)).status).toBe(201);
    const sealKey = createHmac('sha256', admin).update(`gantry idempotency seal v1\n${key}`).digest('base64url');
    const logs = stack.logs();
    expect(logs.length).toBeGreaterThan(0);
    expect(logs).not.toContain(sealKey);
    for (const secret of secrets) expect(logs).not.toContain(secret);
  });
});
