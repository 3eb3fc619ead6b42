import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../../libs/platform/src/testing/wait-for';
import { Api } from '../support/api';
import { Ci } from '../support/ci';
import { CliUser, type RunningCli } from '../support/cli';
import { startGantry, type GantryStack } from '../support/gantry-stack';

/**
 * `gantry runner register` + `gantry runner start`: a build machine joins with an install token and
 * executes labelled jobs through the runner API, as the ci-runner's local executor would.
 */
describe('gantry runner (remote runner agent)', () => {
  let stack: GantryStack;
  let api: Api;
  let ci: Ci;
  let adminSession: string;
  let admin: CliUser;
  const scratch = mkdtempSync(join(tmpdir(), 'gantry-cli-runner-'));
  const agents: RunningCli[] = [];

  /** A machine registered as a runner through the CLI, with the given extra environment. */
  const registerMachine = async (name: string, url: string, env: Record<string, string> = {}) => {
    const install = (await admin.run(['admin', 'install-token', 'create', '--labels', 'cli-linux', '--raw'])).stdout.toString().trim();
    const machine = new CliUser(env);
    const registered = await machine.run(['runner', 'register', '--url', url, '--install-token', install, '--name', name]);
    expect([registered.code, registered.stderr]).toEqual([0, expect.stringContaining(`Registered runner ${name}`)]);
    return machine;
  };
  const startAgent = (machine: CliUser, extra: string[] = []) => {
    const agent = machine.start(['runner', 'start', '--heartbeat', '300', '--kill-grace', '500', ...extra], { AGENT_SECRET: 'agent-only' });
    agents.push(agent);
    return agent;
  };

  beforeAll(async () => {
    stack = await startGantry({ env: { GANTRY_RUNNER_CLAIM_WAIT_MS: '2000' } });
    api = new Api(stack);
    ci = new Ci(api);
    adminSession = await api.login(stack.admin.username, stack.admin.password);
    admin = new CliUser();
    expect((await admin.run(['login', '--url', stack.url, '-u', 'admin', '--password-stdin'], { input: stack.admin.password })).code).toBe(0);
    await ci.repo(adminSession, 'builds');
    const remote = { labels: ['cli-linux'] };
    await ci.job(adminSession, 'admin/builds', 'build', {
      runsOn: remote,
      params: [{ name: 'target', default: 'all' }],
      steps: [
        { name: 'env', run: 'echo "target=$GANTRY_PARAM_TARGET repo=$GANTRY_REPO secret=${AGENT_SECRET:-unset} token=$GANTRY_TOKEN home=$HOME"' },
        { name: 'lines', run: 'for i in 1 2 3 4 5; do echo "line $i"; done; echo to-stderr >&2' },
        { name: 'use the token', run: 'curl -sf -H "authorization: Bearer $GANTRY_TOKEN" "$GANTRY_URL/api/v1/user" | grep -o \'"kind":"ci_job"\'' },
      ],
    });
    await ci.job(adminSession, 'admin/builds', 'hang', { runsOn: remote, steps: [{ run: `sh -c 'sleep 300 & echo $! > ${scratch}/child-$GANTRY_RUN_NUMBER.pid; wait'` }] });
    await ci.job(adminSession, 'admin/builds', 'short', { runsOn: remote, steps: [{ run: 'echo begin; sleep 2; echo end' }] });
    await ci.job(adminSession, 'admin/builds', 'ticker', { runsOn: remote, steps: [{ run: 'for i in $(seq 1 40); do echo "tick $i"; sleep 0.1; done' }] });
  });
  afterAll(async () => {
    await Promise.all(agents.map((agent) => agent.stop()));
    await stack?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('registers with an install token (runner token saved 0600) and runs a labelled job end to end', async () => {
    const machine = await registerMachine('cli-builder', stack.url);
    const file = join(machine.configHome, 'gantry', 'config.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8')).runner).toMatchObject({ url: stack.url, name: 'cli-builder', labels: ['cli-linux'], token: expect.stringMatching(/^gtr_/) });
    const agent = startAgent(machine);
    await agent.waitForOutput('waiting for runs');

    const watched = await admin.run(['runs', 'start', 'admin/builds', 'build', '-p', 'target=release', '--watch']);
    expect([watched.code, watched.stderr]).toEqual([0, expect.stringContaining('[run succeeded')]);
    const log = watched.stdout.toString();
    expect(log).toMatch(/^target=release repo=admin\/builds secret=unset token=\*\*\* home=\/\S+gantry-run-\S+$/m);
    expect(log).toContain('line 1\nline 2\nline 3\nline 4\nline 5\n');
    expect(log).toContain('to-stderr\n');
    expect(log).toContain('"kind":"ci_job"\n');
    expect(log).toContain('[gantry] step 3 exited with code 0');
    const runs = await api.get('/api/v1/repos/admin/builds/runs?job=build', adminSession);
    expect(runs.body.items[0]).toMatchObject({ status: 'succeeded', runner: { kind: 'remote', runnerName: 'cli-builder' } });
    await agent.waitForOutput(`run ${runs.body.items[0].id} succeeded`);
    const listed = JSON.parse((await admin.run(['admin', 'runners', 'list', '--json'])).stdout.toString()) as { name: string; lastSeenAt: string | null }[];
    expect(listed.find((runner) => runner.name === 'cli-builder')?.lastSeenAt).not.toBeNull();
  });

  it('a cancel stops the run and kills its whole process group', async () => {
    const watching = admin.start(['runs', 'start', 'admin/builds', 'hang', '--watch']);
    const runId = (await waitFor(() => /\(([0-9a-f-]{36})\) queued/.exec(watching.stderr)?.[1], { message: 'no run id' }))!;
    const run = await ci.until(adminSession, runId, (r) => r.status === 'running');
    const pidFile = join(scratch, `child-${run.number}.pid`);
    const pid = Number((await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim(), { message: 'no child pid' })));
    expect((await admin.run(['runs', 'cancel', runId])).code).toBe(0);
    expect(await watching.exited).toBe(130);
    await waitFor(() => !alive(pid), { message: `the step's background child ${pid} survived the cancel` });
    const log = await ci.log(adminSession, runId);
    expect(log).toContain('[gantry] run cancelled');
  });

  it('SIGTERM lets the current run finish, then the agent exits 0', async () => {
    const machine = await registerMachine('graceful', stack.url);
    const agent = startAgent(machine);
    await agent.waitForOutput('waiting for runs');
    // The first agent is still claiming too: stop it so that this one takes the run.
    await stopAgent(agents[0]);
    const run = await ci.trigger(adminSession, 'admin/builds', 'short');
    await agent.waitForOutput(`claimed run ${run.id}`);
    await ci.until(adminSession, run.id, (r) => r.status === 'running');
    agent.signal('SIGTERM');
    expect(await agent.exited).toBe(0);
    expect(await ci.until(adminSession, run.id)).toMatchObject({ status: 'succeeded' });
    expect(await ci.log(adminSession, run.id)).toContain('begin\nend\n');
    expect(agent.stderr).toContain('SIGTERM: stopping');
  });

  it('SIGTERM past --stop-grace stops the run (failed) and exits 0', async () => {
    const machine = await registerMachine('impatient', stack.url);
    const agent = startAgent(machine, ['--stop-grace', '1']);
    await agent.waitForOutput('waiting for runs');
    const run = await ci.trigger(adminSession, 'admin/builds', 'hang');
    await agent.waitForOutput(`claimed run ${run.id}`);
    await ci.until(adminSession, run.id, (r) => r.status === 'running');
    agent.signal('SIGTERM');
    expect(await agent.exited).toBe(0);
    expect(agent.stderr).toContain('grace period over');
    expect(await ci.until(adminSession, run.id)).toMatchObject({ status: 'failed' });
    expect(await ci.log(adminSession, run.id)).toContain('[gantry] the ci-runner is shutting down');
  });

  it('survives the gateway going away mid-run: retries with backoff, the log arrives whole and in order', async () => {
    const proxy = await tcpProxy(Number(new URL(stack.url).port));
    try {
      const machine = await registerMachine('resilient', proxy.url);
      const agent = startAgent(machine);
      await agent.waitForOutput('waiting for runs');
      // A watcher through the same proxy: its event stream drops too and resumes with Last-Event-ID.
      const watching = admin.start(['--url', proxy.url, 'runs', 'start', 'admin/builds', 'ticker', '--watch']);
      const run = { id: (await waitFor(() => /\(([0-9a-f-]{36})\) queued/.exec(watching.stderr)?.[1], { message: 'no run id' }))! };
      await agent.waitForOutput(`claimed run ${run.id}`);
      await waitFor(async () => (await ci.log(adminSession, run.id)).includes('tick 3'), { message: 'no log before the outage' });
      await proxy.down();
      await agent.waitForOutput('failed, retrying');
      await new Promise((resolve) => setTimeout(resolve, 1500)); // the gateway stays away a while
      await proxy.up();
      expect(await ci.until(adminSession, run.id, undefined, 30000)).toMatchObject({ status: 'succeeded' });
      const ticks = (await ci.log(adminSession, run.id)).split('\n').filter((line) => line.startsWith('tick '));
      expect(ticks).toEqual(Array.from({ length: 40 }, (_, i) => `tick ${i + 1}`));
      expect(await watching.exited).toBe(0);
      expect(watching.stdout.split('\n').filter((line) => line.startsWith('tick '))).toEqual(ticks);
      await agent.waitForOutput(`log delivery for run ${run.id} resumed`);

      // Idle, waiting for runs: the claim long-poll retries with backoff until the gateway is back.
      await proxy.down();
      await agent.waitForOutput('cannot claim runs, retrying with backoff');
      await proxy.up();
      const next = await ci.trigger(adminSession, 'admin/builds', 'short');
      expect(await ci.until(adminSession, next.id, undefined, 30000)).toMatchObject({ status: 'succeeded', runner: { runnerName: 'resilient' } });
      expect(agent.stderr).toContain('the gateway answers again');
      await stopAgent(agent);
    } finally {
      await proxy.close();
    }
  });

  it('a revoked runner token stops the agent with exit 3', async () => {
    const machine = await registerMachine('doomed', stack.url);
    const agent = startAgent(machine);
    await agent.waitForOutput('waiting for runs');
    expect((await admin.run(['admin', 'runners', 'revoke', 'doomed'])).code).toBe(0);
    expect(await agent.exited).toBe(3);
    expect(agent.stderr).toMatch(/gantry: the runner token was refused/);
  });
});

async function stopAgent(agent: RunningCli): Promise<void> {
  agent.signal('SIGTERM');
  await agent.exited;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A TCP proxy in front of the gateway that can go away and come back on the same port (a gateway restart, as a client sees it). */
async function tcpProxy(targetPort: number) {
  const sockets = new Set<Socket>();
  let server: Server | null = null;
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve) => {
      server = createServer((client) => {
        const upstream = connect(targetPort, '127.0.0.1');
        for (const socket of [client, upstream]) {
          sockets.add(socket);
          socket.on('close', () => sockets.delete(socket));
          socket.on('error', () => undefined);
        }
        client.pipe(upstream).pipe(client);
      });
      server.listen(port, '127.0.0.1', () => {
        port = (server!.address() as { port: number }).port;
        resolve();
      });
    });
  const down = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server ? server.close(() => resolve()) : resolve();
      server = null;
    });
  await listen();
  return { url: `http://127.0.0.1:${port}`, down, up: listen, close: down };
}
