import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { readEventsStream } from '../../libs/platform/src/testing/stream-reader';
import { waitFor } from '../../libs/platform/src/testing/wait-for';
import { Api } from '../support/api';
import { Ci } from '../support/ci';
import { startGantry, type GantryStack } from '../support/gantry-stack';

/** A zombie (killed, not yet reaped by PID 1 of this machine) counts as gone. */
const alive = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
};

describe('CI runs on the local executor: tokens, logs, cancel, timeout', () => {
  let stack: GantryStack;
  let api: Api;
  let ci: Ci;
  let admin: string;
  let repo: string;
  const scratch = mkdtempSync(join(tmpdir(), 'gantry-ci-e2e-'));

  beforeAll(async () => {
    stack = await startGantry({ env: { GANTRY_CI_KILL_GRACE_MS: '500', GANTRY_CI_CONCURRENCY: '4' } });
    api = new Api(stack);
    ci = new Ci(api);
    admin = await api.login(stack.admin.username, stack.admin.password);
    repo = (await ci.repo(admin, 'widgets')).fullName;
  });
  afterAll(async () => {
    await stack?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('runs the steps with params and env; the token is masked; nothing of the service environment leaks', async () => {
    await ci.job(admin, repo, 'env', {
      steps: [{ name: 'print', run: 'echo "param=$GANTRY_PARAM_TARGET flavour=$FLAVOUR"; echo "token=$GANTRY_TOKEN"; env | sort' }],
      env: { FLAVOUR: 'mint' },
      params: [{ name: 'target', required: true }, { name: 'mode', default: 'fast' }],
    });
    const run = await ci.trigger(admin, repo, 'env', { target: 'linux' });
    expect(run).toMatchObject({ status: 'queued', number: 1, params: { target: 'linux', mode: 'fast' } });
    const done = await ci.until(admin, run.id);
    expect(done).toMatchObject({ status: 'succeeded', exitCode: 0, reason: null, runner: { kind: 'local' } });
    const log = await ci.log(admin, run.id);
    expect(log).toContain('param=linux flavour=mint');
    expect(log).toContain('token=***');
    expect(log).toContain('GANTRY_PARAM_MODE=fast');
    expect(log).toContain(`GANTRY_REPO=${repo}`);
    expect(log).toContain(`GANTRY_RUN_ID=${run.id}`);
    expect(log).toMatch(/GANTRY_URL=http:\/\/127\.0\.0\.1:\d+/);
    expect(log).not.toMatch(/gtc_[0-9A-Za-z]{36}/);
    // Nor the ci-runner's own credentials: a step holding its NATS user could forge CI events.
    const ciCredentials = [stack.infra.credentials.nats['ci-runner'].pass, decodeURIComponent(new URL(stack.infra.credentials.databaseUrls['ci-runner']).password)];
    for (const secret of ['GANTRY_DATABASE_URL', 'GANTRY_S3_SECRET_KEY', 'GANTRY_ADMIN_PASSWORD', 'GANTRY_NATS_URL', 'GANTRY_NATS_PASSWORD', stack.infra.s3.secretKey, stack.admin.password, ...ciCredentials]) {
      expect(log).not.toContain(secret);
    }
  });

  it('the run token reads its repository, nothing else, and is refused once the run ended', async () => {
    const other = await ci.repo(admin, 'other-private');
    const publicRepo = await ci.repo(admin, 'other-public', 'public');
    const out = join(scratch, 'token-probe');
    await ci.job(admin, repo, 'probe', {
      steps: [{
        run: [
          `echo "$GANTRY_TOKEN" > ${out}.token`,
          `for path in /api/v1/user /api/v1/repos/${repo} /api/v1/repos/${other.fullName} /api/v1/repos/${publicRepo.fullName} /api/v1/user/tokens /api/v1/users /api/v1/runners /api/v1/repos/${repo}/keys /api/v1/repos/${repo}/jobs /api/v1/repos/${repo}/runs; do`,
          `  curl -s -o /dev/null -w "$path %{http_code}\\n" -H "Authorization: Bearer $GANTRY_TOKEN" "$GANTRY_URL$path" >> ${out}.codes`,
          'done',
          `curl -s -H "Authorization: Bearer $GANTRY_TOKEN" "$GANTRY_URL/api/v1/user" > ${out}.whoami`,
        ].join('\n'),
      }],
    });
    const run = await ci.trigger(admin, repo, 'probe');
    expect(await ci.until(admin, run.id)).toMatchObject({ status: 'succeeded' });
    const codes = Object.fromEntries(readFileSync(`${out}.codes`, 'utf8').trim().split('\n').map((line) => line.split(' ')));
    expect(codes).toEqual({
      '/api/v1/user': '200',
      [`/api/v1/repos/${repo}`]: '200',
      [`/api/v1/repos/${other.fullName}`]: '404',
      [`/api/v1/repos/${publicRepo.fullName}`]: '403',
      '/api/v1/user/tokens': '403',
      '/api/v1/users': '403',
      '/api/v1/runners': '403',
      [`/api/v1/repos/${repo}/keys`]: '403',
      [`/api/v1/repos/${repo}/jobs`]: '403',
      [`/api/v1/repos/${repo}/runs`]: '403',
    });
    const whoami = JSON.parse(readFileSync(`${out}.whoami`, 'utf8'));
    expect(whoami).toMatchObject({ kind: 'ci_job', user: null, runId: run.id, scopes: ['repo:read', 'assets:write'] });
    const token = readFileSync(`${out}.token`, 'utf8').trim();
    expect(token).toMatch(/^gtc_/);
    const after = await waitFor(async () => {
      const response = await api.get('/api/v1/user', token);
      return response.status === 401 ? response : null;
    }, { message: 'the run token still works after the run ended' });
    expect(after.body.error.code).toBe('token_revoked');
  });

  it('a failing step fails the run with its exit code, and later steps do not run', async () => {
    await ci.job(admin, repo, 'fails', { steps: [{ run: 'echo first' }, { run: 'exit 3' }, { run: 'echo never-printed' }] });
    const run = await ci.trigger(admin, repo, 'fails');
    expect(await ci.until(admin, run.id)).toMatchObject({ status: 'failed', exitCode: 3, reason: 'step_failed' });
    const log = await ci.log(admin, run.id);
    expect(log).toContain('first');
    expect(log).not.toContain('never-printed');
  });

  it('a run past its timeout ends timed_out', async () => {
    await ci.job(admin, repo, 'slow', { steps: [{ run: 'sleep 30' }], timeoutSeconds: 1 });
    const run = await ci.trigger(admin, repo, 'slow');
    expect(await ci.until(admin, run.id)).toMatchObject({ status: 'timed_out', reason: 'timed_out', exitCode: null });
  });

  it('cancelling a running run kills its whole process group, also a child that ignores SIGTERM', async () => {
    const pids = join(scratch, 'pids');
    await ci.job(admin, repo, 'stubborn', { steps: [{ run: `trap '' TERM; sleep 600 & echo $! > ${pids}; echo $$ >> ${pids}; echo started; wait` }] });
    const run = await ci.trigger(admin, repo, 'stubborn');
    await ci.until(admin, run.id, (r) => r.status === 'running' && r.logLines >= 2);
    await waitFor(() => existsSync(pids) && readFileSync(pids, 'utf8').trim().split('\n').length === 2, { message: 'step did not write its pids' });
    const [sleepPid, shellPid] = readFileSync(pids, 'utf8').trim().split('\n').map(Number);
    expect(alive(sleepPid) && alive(shellPid)).toBe(true);
    const cancel = await api.post(`/api/v1/runs/${run.id}/cancel`, admin);
    expect(cancel.status).toBe(202);
    expect(await ci.until(admin, run.id)).toMatchObject({ status: 'cancelled', reason: 'cancelled', cancelRequested: true });
    expect(alive(sleepPid) || alive(shellPid)).toBe(false);
    expect(await ci.log(admin, run.id)).toContain('SIGKILL');
    const again = await api.post(`/api/v1/runs/${run.id}/cancel`, admin);
    expect([again.status, again.body.error.code]).toEqual([409, 'run_finished']);
  });

  it('cancelling a queued run ends it at once', async () => {
    await ci.job(admin, repo, 'nowhere', { steps: [{ run: 'true' }], runsOn: { labels: ['no-such-runner'] } });
    const run = await ci.trigger(admin, repo, 'nowhere');
    const cancel = await api.post(`/api/v1/runs/${run.id}/cancel`, admin);
    expect([cancel.status, cancel.body.status, cancel.body.reason, cancel.body.startedAt]).toEqual([202, 'cancelled', 'cancelled', null]);
  });

  // Last: it stops identity.
  it('identity down when the run ends: the token is refused as soon as identity is back', async () => {
    const out = join(scratch, 'outage-token');
    await ci.job(admin, repo, 'outage', { steps: [{ run: `echo "$GANTRY_TOKEN" > ${out}; sleep 2` }] });
    const run = await ci.trigger(admin, repo, 'outage');
    const token = await waitFor(() => (existsSync(out) && readFileSync(out, 'utf8').trim()) || null, { message: 'no token written' });
    expect((await api.get('/api/v1/user', token)).status).toBe(200); // now cached at the gateway
    await stack.stopService('identity');
    // The gateway cannot authorize anything now (no identity): watch the run.ended event instead.
    const nc = await connect({ servers: stack.infra.nats.url, ...stack.infra.nats.admin });
    try {
      const ended = await waitFor(async () => (await readEventsStream(nc)).find((e) => e.type === 'ci.run.ended' && (e.data as { runId: string }).runId === run.id), {
        timeoutMs: 20000, message: 'the run did not end while identity was down',
      });
      expect(ended.data).toMatchObject({ status: 'succeeded' });
    } finally {
      await nc.close();
    }
    await stack.restart('identity');
    await waitFor(async () => (await fetch(`${stack.url}/readyz`)).status === 200, { timeoutMs: 30000, message: 'identity did not come back' });
    const first = await api.get('/api/v1/user', token);
    expect([first.status, first.body.error?.code]).toEqual([401, 'token_revoked']);
  });
});
