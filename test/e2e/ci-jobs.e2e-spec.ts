import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import pg from 'pg';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readEventsStream } from '../../libs/platform/src/testing/stream-reader';
import { waitFor } from '../../libs/platform/src/testing/wait-for';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Api } from '../support/api';
import { Ci } from '../support/ci';
import { call, startGantry, type GantryStack } from '../support/gantry-stack';
import { ROUTE_POLICIES } from '../../apps/gateway/src/auth/route-policy';

const scratch = mkdtempSync(join(tmpdir(), 'gantry-ci-jobs-'));
const jobsFile = join(scratch, 'jobs.yaml');
// The admin's repository is created by the test; the file names it up front (it is applied once the repository exists).
writeFileSync(jobsFile, ['admin/from-file:', '  nightly:', '    steps:', '      - run: echo from the jobs file', ''].join('\n'));

describe('CI jobs and triggers: definitions, validation, who may do what', () => {
  let stack: GantryStack;
  let api: Api;
  let ci: Ci;
  let admin: string;
  let nc: NatsConnection;
  let repo: string;
  let member: { session: string; username: string };

  beforeAll(async () => {
    stack = await startGantry({ env: { GANTRY_JOBS_FILE: jobsFile, GANTRY_CI_MAX_TIMEOUT_SECONDS: '7200' } });
    api = new Api(stack);
    ci = new Ci(api);
    admin = await api.login(stack.admin.username, stack.admin.password);
    repo = (await ci.repo(admin, 'pipelines')).fullName;
    member = await api.user(admin, 'ci-member');
    nc = await connect({ servers: stack.infra.nats.url, ...stack.infra.nats.admin });
  });
  afterAll(async () => {
    await nc?.close();
    await stack?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  const spec = { steps: [{ name: 'hello', run: 'echo hello' }], params: [{ name: 'who', default: 'world' }] };

  it('PUT creates (201) then replaces (200); GET, list, overview and DELETE', async () => {
    const created = await api.put(`/api/v1/repos/${repo}/jobs/build`, admin, spec);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ repo, name: 'build', timeoutSeconds: 3600, runsOn: 'local', env: {}, steps: spec.steps });
    const replaced = await api.put(`/api/v1/repos/${repo}/jobs/build`, admin, { ...spec, timeoutSeconds: 60 });
    expect([replaced.status, replaced.body.timeoutSeconds]).toEqual([200, 60]);
    expect((await api.get(`/api/v1/repos/${repo}/jobs/build`, admin)).body.timeoutSeconds).toBe(60);
    expect((await api.get(`/api/v1/repos/${repo}/jobs`, admin)).body.items.map((j: { name: string }) => j.name)).toEqual(['build']);
    await ci.job(admin, repo, 'doomed', spec);
    expect((await api.delete(`/api/v1/repos/${repo}/jobs/doomed`, admin)).status).toBe(204);
    expect((await api.get(`/api/v1/repos/${repo}/jobs/doomed`, admin)).status).toBe(404);
    expect((await api.delete(`/api/v1/repos/${repo}/jobs/doomed`, admin)).status).toBe(404);
    const types = (await waitFor(async () => {
      const events = (await readEventsStream(nc)).filter((e) => e.type.startsWith('ci.job.'));
      return events.length >= 4 ? events : null;
    }, { message: 'job events not on the stream' })).map((e) => e.type);
    expect(types).toEqual(['ci.job.put', 'ci.job.put', 'ci.job.put', 'ci.job.deleted']);
  });

  it('GET /api/v1/jobs lists every job the caller can see, and nothing else', async () => {
    const mine = await ci.repo(member.session, 'member-repo');
    await ci.job(member.session, mine.fullName, 'test', spec);
    const forMember = (await api.get('/api/v1/jobs', member.session)).body.items.map((j: { repo: string; name: string }) => `${j.repo}:${j.name}`);
    expect(forMember).toEqual(['ci-member/member-repo:test']);
    const forAdmin = (await api.get('/api/v1/jobs', admin)).body.items.map((j: { repo: string; name: string }) => `${j.repo}:${j.name}`);
    expect(forAdmin).toEqual(expect.arrayContaining(['ci-member/member-repo:test', `${repo}:build`]));
  });

  it('refuses bad job definitions with 400 naming the field', async () => {
    const cases: [string, unknown, string][] = [
      ['build', { steps: [] }, 'steps'],
      ['build', { steps: [{ run: '' }] }, 'steps.0.run'],
      ['build', { steps: [{ run: 'x\u0000y' }] }, 'steps.0.run'],
      ['build', { steps: [{ run: 'ok' }], env: { GANTRY_TOKEN: 'x' } }, 'env.GANTRY_TOKEN'],
      ['build', { steps: [{ run: 'ok' }], timeoutSeconds: 7201 }, 'timeoutSeconds'],
      ['build', { steps: [{ run: 'ok' }], runsOn: { labels: [] } }, 'runsOn.labels'],
      ['build', { steps: [{ run: 'ok' }], extra: true }, 'extra'],
      ['build', { steps: [{ run: 'ok' }], params: [{ name: 'a' }, { name: 'A' }] }, 'params'],
      ['Bad-Name', { steps: [{ run: 'ok' }] }, 'job'],
    ];
    for (const [name, body, field] of cases) {
      const response = await api.put(`/api/v1/repos/${repo}/jobs/${name}`, admin, body);
      expect([JSON.stringify(body), response.status, response.body.error?.code, response.body.error?.field]).toEqual([JSON.stringify(body), 400, 'invalid_request', field]);
    }
  });

  it('trigger: unknown_param, missing_param, unknown job 404; numbers count per job', async () => {
    await ci.job(admin, repo, 'params', { steps: [{ run: 'true' }], params: [{ name: 'needed', required: true }] });
    const unknown = await api.post(`/api/v1/repos/${repo}/jobs/params/runs`, admin, { params: { needed: 'x', nope: '1' } });
    expect([unknown.status, unknown.body.error.code, unknown.body.error.field]).toEqual([400, 'unknown_param', 'params.nope']);
    const missing = await api.post(`/api/v1/repos/${repo}/jobs/params/runs`, admin, {});
    expect([missing.status, missing.body.error.code, missing.body.error.field]).toEqual([400, 'missing_param', 'params.needed']);
    expect((await api.post(`/api/v1/repos/${repo}/jobs/nope/runs`, admin, {})).status).toBe(404);
    expect((await api.post(`/api/v1/repos/${repo}/jobs/params/runs`, admin, { params: { needed: 'a\ud800' } })).status).toBe(400);
    const first = await ci.trigger(admin, repo, 'params', { needed: 'a' });
    const second = await ci.trigger(admin, repo, 'params', { needed: 'b' });
    expect([first.number, second.number]).toEqual([1, 2]);
  });

  it('a repository API key with runs:write triggers (the headless trigger); repo:read only reads', async () => {
    const trigger = (await api.post(`/api/v1/repos/${repo}/keys`, admin, { name: 'ci', scopes: ['runs:write', 'repo:read'] })).body.key as string;
    const reader = (await api.post(`/api/v1/repos/${repo}/keys`, admin, { name: 'ro', scopes: ['repo:read'] })).body.key as string;
    const run = await ci.trigger(trigger, repo, 'build');
    expect(run).toMatchObject({ triggeredBy: { kind: 'api_key' } });
    expect((await api.get(`/api/v1/runs/${run.id}`, reader)).status).toBe(200);
    expect((await api.get(`/api/v1/repos/${repo}/runs`, reader)).status).toBe(200);
    const refused = await api.post(`/api/v1/repos/${repo}/jobs/build/runs`, reader, {});
    expect([refused.status, refused.body.error.code]).toEqual([403, 'forbidden']);
    expect((await api.put(`/api/v1/repos/${repo}/jobs/build`, trigger, spec)).status).toBe(403);
    const elsewhere = await ci.repo(admin, 'elsewhere', 'public');
    const wrong = await api.post(`/api/v1/repos/${elsewhere.fullName}/jobs/build/runs`, trigger, {});
    expect([wrong.status, wrong.body.error.code]).toEqual([403, 'wrong_repository']);
  });

  it('a key bound to another repository: 403 wrong_repository on every run route of a public one, 404 of a private one', async () => {
    const key = (await api.post(`/api/v1/repos/${repo}/keys`, admin, { name: 'bound', scopes: ['runs:write', 'repo:read'] })).body.key as string;
    for (const [name, visibility, expected] of [['runs-public', 'public', [403, 'wrong_repository']], ['runs-private', 'private', [404, 'not_found']]] as const) {
      const target = (await ci.repo(admin, name, visibility)).fullName;
      await ci.job(admin, target, 'build', spec);
      const run = await ci.trigger(admin, target, 'build');
      const routes = Object.entries(ROUTE_POLICIES).filter(([, policy]) => policy.repoOf === 'run').map(([route]) => route.split(' '));
      expect(routes.length).toBe(4);
      for (const [method, template] of routes) {
        const response = await call(`${stack.url}${template.replace(':id', run.id)}`, { method, token: key, body: method === 'POST' ? {} : undefined });
        expect([template, visibility, response.status, response.body.error?.code]).toEqual([template, visibility, ...expected]);
      }
    }
  });

  it('a private repository and its runs are 404 to outsiders on every route; members with read cannot trigger', async () => {
    const run = await ci.trigger(admin, repo, 'build');
    const outsider = await api.user(admin, 'outsider');
    for (const path of [`/api/v1/runs/${run.id}`, `/api/v1/runs/${run.id}/log`, `/api/v1/runs/${run.id}/events`, `/api/v1/repos/${repo}/runs`, `/api/v1/repos/${repo}/jobs`]) {
      expect([path, (await api.get(path, outsider.session)).status]).toEqual([path, 404]);
    }
    expect((await api.post(`/api/v1/runs/${run.id}/cancel`, outsider.session)).status).toBe(404);
    expect((await api.get('/api/v1/runs/not-a-uuid', admin)).status).toBe(404);
    expect((await api.get('/api/v1/runs/0190a000-0000-7000-8000-000000000000', admin)).status).toBe(404);
    await api.put(`/api/v1/repos/${repo}/members/outsider`, admin, { role: 'read' });
    expect((await api.get(`/api/v1/runs/${run.id}`, outsider.session)).status).toBe(200);
    expect((await api.post(`/api/v1/repos/${repo}/jobs/build/runs`, outsider.session, {})).status).toBe(403);
    expect((await api.post(`/api/v1/runs/${run.id}/cancel`, outsider.session)).status).toBe(403);
  });

  it('lists runs newest first with filters and cursor pagination', async () => {
    await ci.job(admin, repo, 'many', { steps: [{ run: 'true' }] });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await ci.trigger(admin, repo, 'many')).id);
    const page1 = await api.get(`/api/v1/repos/${repo}/runs?job=many&limit=2`, admin);
    const page2 = await api.get(`/api/v1/repos/${repo}/runs?job=many&limit=2&cursor=${page1.body.nextCursor}`, admin);
    const page3 = await api.get(`/api/v1/repos/${repo}/runs?job=many&limit=2&cursor=${page2.body.nextCursor}`, admin);
    expect([...page1.body.items, ...page2.body.items, ...page3.body.items].map((r: { id: string }) => r.id)).toEqual(ids.reverse());
    expect(page3.body.nextCursor).toBeNull();
    await ci.until(admin, ids[0]);
    const succeeded = await api.get(`/api/v1/repos/${repo}/runs?job=many&status=succeeded`, admin);
    expect(succeeded.body.items.every((r: { status: string }) => r.status === 'succeeded')).toBe(true);
    for (const query of ['status=bogus', 'limit=0', 'limit=abc', 'cursor=%00', 'extra=1']) {
      expect([query, (await api.get(`/api/v1/repos/${repo}/runs?${query}`, admin)).status]).toEqual([query, 400]);
    }
  });

  it('puts the jobs of GANTRY_JOBS_FILE once the repository exists', async () => {
    await ci.repo(admin, 'from-file');
    const job = await waitFor(async () => {
      const response = await api.get('/api/v1/repos/admin/from-file/jobs/nightly', admin);
      return response.status === 200 ? response.body : null;
    }, { timeoutMs: 20000, message: 'the jobs file was not applied' });
    expect(job.steps).toEqual([{ run: 'echo from the jobs file' }]);
  });

  it('a replay rebuilds jobs and runs equal to the live read models', async () => {
    const db = new pg.Client({ connectionString: stack.infra.databaseUrl });
    await db.connect();
    try {
      await waitFor(async () => (await db.query(`SELECT 1 FROM ci.runs WHERE status IN ('queued', 'running')`)).rowCount === 0, { timeoutMs: 20000, message: 'runs still going' });
      const snapshot = async () => [
        (await db.query('SELECT * FROM ci.jobs ORDER BY repo_id, name')).rows,
        (await db.query('SELECT * FROM ci.runs ORDER BY id')).rows,
      ];
      const live = await snapshot();
      expect(live[1].length).toBeGreaterThan(10);
      await db.query(`UPDATE ci.runs SET status = 'queued', exit_code = 99; DELETE FROM ci.jobs`); // damage the read models
      const replay = spawnSync(process.execPath, ['dist/apps/ci-runner/src/replay.js'], { env: { PATH: process.env.PATH, GANTRY_DATABASE_URL: stack.infra.databaseUrl }, encoding: 'utf8' });
      expect([replay.status, replay.stderr]).toEqual([0, '']);
      expect(await snapshot()).toEqual(live);
    } finally {
      await db.end();
    }
  });
});
