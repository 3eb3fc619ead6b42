import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readEventsStream } from '../../libs/platform/src/testing/stream-reader';
import { waitFor } from '../../libs/platform/src/testing/wait-for';
import { Api } from '../support/api';
import { Ci } from '../support/ci';
import { startGantry, type GantryStack } from '../support/gantry-stack';

describe('remote runners through the runner API, and two ci-runner replicas', () => {
  let stack: GantryStack;
  let api: Api;
  let ci: Ci;
  let admin: string;
  let repo: string;
  let nc: NatsConnection;
  const scratch = mkdtempSync(join(tmpdir(), 'gantry-ci-remote-'));

  const register = async (name: string, labels: string[]) => {
    const install = (await api.post('/api/v1/install-tokens', admin, { labels })).body.token as string;
    const exchanged = await api.post('/api/v1/install-tokens/exchange', undefined, { token: install, runnerName: name });
    return exchanged.body as { token: string; runnerId: string };
  };
  const claim = (token: string, labels?: string[]) => api.post('/api/v1/runner/runs/claim', token, labels ? { labels } : {});
  const sendLog = (token: string, runId: string, lines: { seq: number; text: string }[]) => api.post(`/api/v1/runner/runs/${runId}/log`, token, { lines });
  const finish = (token: string, runId: string, status: string, exitCode: number | null) => api.post(`/api/v1/runner/runs/${runId}/finish`, token, { status, exitCode });

  beforeAll(async () => {
    stack = await startGantry({ ciRunners: 2, env: { GANTRY_RUNNER_LOST_SECONDS: '2', GANTRY_RUNNER_CLAIM_WAIT_MS: '1500', GANTRY_CI_CONCURRENCY: '4' } });
    api = new Api(stack);
    ci = new Ci(api);
    admin = await api.login(stack.admin.username, stack.admin.password);
    repo = (await ci.repo(admin, 'remote')).fullName;
    await ci.job(admin, repo, 'on-linux', { steps: [{ run: 'make' }], env: { CC: 'gcc' }, params: [{ name: 'target', default: 'all' }], runsOn: { labels: ['linux'] } });
    nc = await connect({ servers: stack.infra.nats.url, ...stack.infra.nats.admin });
  });
  afterAll(async () => {
    await nc?.close();
    await stack?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('claim → token → log (idempotent by seq, masked) → finish; the token dies with the run', async () => {
    const runner = await register('builder-1', ['linux', 'x64']);
    const run = await ci.trigger(admin, repo, 'on-linux');
    const claimed = await claim(runner.token);
    expect(claimed.status).toBe(200);
    expect(claimed.body).toMatchObject({ id: run.id, repo, job: 'on-linux', steps: [{ run: 'make' }], env: { CC: 'gcc' }, params: { target: 'all' }, timeoutSeconds: 3600 });
    const token = claimed.body.token as string;
    expect(token).toMatch(/^gtc_/);
    expect((await api.get('/api/v1/user', token)).body).toMatchObject({ kind: 'ci_job', runId: run.id });
    expect(await ci.run(admin, run.id)).toMatchObject({ body: { status: 'running', runner: { kind: 'remote', runnerId: runner.runnerId, runnerName: 'builder-1' } } });

    const lines = [{ seq: 1, text: 'compiling' }, { seq: 2, text: `leaked ${token} here` }];
    expect((await sendLog(runner.token, run.id, lines)).body).toMatchObject({ id: run.id, status: 'running', cancelRequested: false, logLines: 2 });
    expect((await sendLog(runner.token, run.id, [...lines, { seq: 3, text: 'linked' }])).body.logLines).toBe(3); // a retry resends 1–2
    const gap = await sendLog(runner.token, run.id, [{ seq: 9, text: 'too far' }]);
    expect(gap.status).toBe(409);

    const finished = await finish(runner.token, run.id, 'succeeded', 0);
    expect(finished.status).toBe(200);
    expect(finished.body).toMatchObject({ status: 'succeeded', exitCode: 0, reason: null, logLines: 3 });
    expect((await finish(runner.token, run.id, 'succeeded', 0)).status).toBe(200); // a retried finish
    expect((await finish(runner.token, run.id, 'failed', 1)).body.error.code).toBe('run_finished');
    expect(await ci.log(admin, run.id)).toBe('compiling\nleaked *** here\nlinked\n');
    const refused = await waitFor(async () => ((await api.get('/api/v1/user', token)).status === 401 ? true : null), { message: 'remote run token not revoked' });
    expect(refused).toBe(true);
  });

  it('long-polls: 204 when nothing comes, a run queued during the wait is handed over at once', async () => {
    const runner = await register('poller', ['linux']);
    const started = Date.now();
    const empty = await claim(runner.token);
    expect(empty.status).toBe(204);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
    const waiting = claim(runner.token);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const run = await ci.trigger(admin, repo, 'on-linux');
    const claimed = await waiting;
    expect([claimed.status, claimed.body.id]).toEqual([200, run.id]);
    expect(Date.now() - started).toBeLessThan(1500 + 1400);
    await finish(runner.token, run.id, 'failed', 2);
    expect((await ci.run(admin, run.id)).body).toMatchObject({ status: 'failed', exitCode: 2, reason: 'step_failed' });
  });

  it('labels: a runner takes only runs whose labels it has, and may not claim with labels it lacks', async () => {
    await ci.job(admin, repo, 'on-gpu', { steps: [{ run: 'train' }], runsOn: { labels: ['linux', 'gpu'] } });
    const plain = await register('plain', ['linux']);
    const gpu = await register('gpu-box', ['linux', 'gpu']);
    const run = await ci.trigger(admin, repo, 'on-gpu');
    expect((await claim(plain.token)).status).toBe(204);
    expect((await claim(plain.token, ['gpu'])).status).toBe(403);
    const claimed = await claim(gpu.token);
    expect(claimed.body.id).toBe(run.id);
    expect((await sendLog(plain.token, run.id, [{ seq: 1, text: 'not mine' }])).status).toBe(403);
    expect((await finish(plain.token, run.id, 'succeeded', 0)).status).toBe(403);
    expect((await api.post('/api/v1/runner/runs/claim', admin, {})).status).toBe(403); // a session is not a runner
    await finish(gpu.token, run.id, 'succeeded', 0);
  });

  it('cancel reaches the runner through its log calls and heartbeat; it finishes cancelled', async () => {
    const runner = await register('cancellable', ['linux']);
    const run = await ci.trigger(admin, repo, 'on-linux');
    expect((await claim(runner.token)).body.id).toBe(run.id);
    expect((await api.post(`/api/v1/runs/${run.id}/cancel`, admin)).status).toBe(202);
    expect((await sendLog(runner.token, run.id, [{ seq: 1, text: 'working' }])).body).toMatchObject({ status: 'running', cancelRequested: true });
    const beat = await api.post('/api/v1/runner/heartbeat', runner.token);
    expect(beat.body.runs).toEqual([{ id: run.id, status: 'running', cancelRequested: true, logLines: 1 }]);
    expect((await finish(runner.token, run.id, 'cancelled', null)).body).toMatchObject({ status: 'cancelled', reason: 'cancelled' });
  });

  it('a runner that stops heart-beating has its run failed with runner_lost, and the token revoked', async () => {
    const runner = await register('flaky', ['linux']);
    const run = await ci.trigger(admin, repo, 'on-linux');
    const claimed = await claim(runner.token);
    expect(claimed.body.id).toBe(run.id);
    await api.post('/api/v1/runner/heartbeat', runner.token); // alive for now …
    const lost = await ci.until(admin, run.id, undefined, 15000); // … then silent
    expect(lost).toMatchObject({ status: 'failed', reason: 'runner_lost' });
    await waitFor(async () => ((await api.get('/api/v1/user', claimed.body.token)).status === 401 ? true : null), { message: 'token of a lost run still works' });
    const answer = await sendLog(runner.token, run.id, [{ seq: 1, text: 'late' }]);
    expect(answer.body).toMatchObject({ status: 'failed', logLines: 0 });
  });

  it('two ci-runner replicas execute 40 runs, each exactly once', async () => {
    const file = join(scratch, 'executions');
    await ci.job(admin, repo, 'once', { steps: [{ run: `echo "$GANTRY_RUN_ID" >> ${file}` }] });
    const ids = await Promise.all(Array.from({ length: 40 }, () => ci.trigger(admin, repo, 'once').then((run) => run.id)));
    const runs = await Promise.all(ids.map((id) => ci.until(admin, id, undefined, 60000)));
    expect(runs.every((run) => run.status === 'succeeded')).toBe(true);
    const executed = readFileSync(file, 'utf8').trim().split('\n');
    expect(executed.sort()).toEqual([...ids].sort());
    expect(new Set(runs.map((run) => run.runner.worker)).size).toBe(2);
    const started = await waitFor(async () => {
      const events = (await readEventsStream(nc)).filter((e) => e.type === 'ci.run.started' && ids.includes((e.data as { runId: string }).runId));
      return events.length >= 40 ? events : null;
    }, { message: 'run.started events missing' });
    expect(started).toHaveLength(40);
  });
});
