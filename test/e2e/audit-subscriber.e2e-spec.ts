import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { jetstream } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { readEventsStream } from '../../libs/platform/src/testing/stream-reader';
import { waitFor } from '../../libs/platform/src/testing/wait-for';
import { Api } from '../support/api';
import { Ci } from '../support/ci';
import { startGantry, type GantryStack } from '../support/gantry-stack';

/**
 * Issue #11: the example subscriber (examples/audit-subscriber) against a scripted scenario —
 * every event exactly once and in chain order per service, across a restart of the subscriber and
 * of nats-server; a forged message is called out; no secret or hash of one in any event.
 */
describe('the example audit subscriber', () => {
  let stack: GantryStack;
  let api: Api;
  let ci: Ci;
  let nc: NatsConnection;
  let dir: string;
  let subscriber: ChildProcess | null = null;
  let output = '';
  const secrets: string[] = [];

  const startSubscriber = () => {
    subscriber = spawn(process.execPath, ['dist/examples/audit-subscriber/main.js', '--state', join(dir, 'state.json'), '--durable', 'e2e-audit'], {
      env: { ...process.env, NATS_URL: stack.infra.nats.url, NATS_USER: stack.infra.nats.admin.user, NATS_PASSWORD: stack.infra.nats.admin.pass },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    subscriber.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    subscriber.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    return waitFor(async () => output.includes('following events.>'), { message: `subscriber did not start: ${output}` });
  };
  const stopSubscriber = async () => {
    const child = subscriber!;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
    subscriber = null;
  };
  const storedEvents = async () => {
    const client = new pg.Client({ connectionString: stack.infra.databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query<{ id: string; service: string; seq: string }>(
        `SELECT id, 'identity' AS service, chain_seq AS seq FROM identity.events UNION ALL
         SELECT id, 'ci-runner', chain_seq FROM ci.events UNION ALL SELECT id, 'assets', chain_seq FROM assets.events`,
      );
      return rows;
    } finally {
      await client.end();
    }
  };
  const keep = (secret: string) => (secrets.push(secret), secret);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gantry-subscriber-'));
    stack = await startGantry();
    api = new Api(stack);
    ci = new Ci(api);
    nc = await connect({ servers: stack.infra.nats.url, ...stack.infra.nats.admin, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
  });
  afterAll(async () => {
    if (subscriber) await stopSubscriber();
    await nc?.close();
    await stack?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('receives the scenario once, in order, verified, across its own restart and a nats-server restart', async () => {
    await startSubscriber();
    const admin = keep(await api.login(stack.admin.username, stack.admin.password));
    const member = await api.user(admin, 'watched');
    keep(member.session);
    const pat = await api.pat(member.session, ['repo:read'], 'scenario');
    keep(pat.token);
    await api.delete(`/api/v1/user/tokens/${pat.id}`, member.session);
    for (let i = 0; i < 3; i++) await api.post('/api/v1/auth/login', undefined, { username: 'watched', password: 'not-the-password-1' });

    await stopSubscriber(); // mid-scenario
    const repo = await ci.repo(admin, 'scenario');
    const key = await api.post(`/api/v1/repos/${repo.fullName}/keys`, admin, { name: 'deploy', scopes: ['repo:read', 'assets:write'] });
    expect(key.status).toBe(201);
    keep(key.body.key ?? key.body.token);
    await startSubscriber();

    await stack.infra.nats.restart();
    // Every service reconnects on its own schedule: ready is when a request that crosses them works.
    const job = { steps: [{ name: 'hello', run: 'echo hello' }] };
    await waitFor(async () => [200, 201].includes((await api.put(`/api/v1/repos/${repo.fullName}/jobs/build`, admin, job)).status), {
      timeoutMs: 30_000, message: 'jobs could not be put after the NATS restart',
    });
    const run = await ci.trigger(admin, repo.fullName, 'build');
    await ci.until(admin, run.id);
    const assetPat = keep((await api.pat(admin, ['repo:read', 'assets:write'], 'uploader')).token);
    const uploaded = await fetch(`${stack.url}/api/v1/repos/${repo.fullName}/assets/v1/app.bin`, {
      method: 'PUT', body: randomBytes(1024), headers: { authorization: `Bearer ${assetPat}`, 'content-type': 'application/octet-stream' },
    });
    expect(uploaded.status).toBe(201);

    // Every stored event reaches the subscriber once, verified, in each service's chain order.
    const stored = await waitFor(async () => {
      const rows = await storedEvents();
      return rows.every((row) => row.seq !== null && output.includes(`id=${row.id} chain=ok`)) ? rows : null;
    }, { timeoutMs: 30_000, message: 'the subscriber did not receive every event' }).catch((error: Error) => {
      throw new Error(`${error.message}\n${output.slice(-3000)}`);
    });
    const lines = output.split('\n').filter((line) => line.includes(' chain=ok'));
    expect(lines).toHaveLength(stored.length); // nothing twice
    expect(new Set(stored.map((row) => row.service))).toEqual(new Set(['identity', 'ci-runner', 'assets']));
    for (const service of ['identity', 'ci-runner', 'assets']) {
      const seqs = lines.filter((line) => line.includes(` ${service}#`)).map((line) => Number(/#(\d+) /.exec(line)![1]));
      expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    }
    expect(output).not.toMatch(/CHAIN [A-Z_]+:|NOT AN EVENT|Error/);
  });

  it('calls out a forged event on the stream, and goes on verifying the real ones', async () => {
    const real = (await readEventsStream(nc)).filter((e) => e.service === 'identity');
    const last = real[real.length - 1];
    const forged = { ...last, id: '01900000-0000-7000-8000-000000000000', seq: last.seq! + 1, prevHash: last.hash, type: 'identity.user.created', data: { userId: 'x' } };
    await jetstream(nc).publish('events.identity.user.created', JSON.stringify(forged), { msgID: forged.id });
    await waitFor(async () => output.includes(`id=${forged.id} CHAIN ALTERED`), { message: `forgery not detected:\n${output.slice(-2000)}` });
    const session = await api.login(stack.admin.username, stack.admin.password); // a real event, seq last+1
    keep(session);
    await waitFor(async () => output.split('\n').some((line) => line.includes(`identity#${last.seq! + 1} identity.session.started`) && line.endsWith('chain=ok')), {
      message: `the real event after the forgery did not verify:\n${output.slice(-2000)}`,
    });
  });

  it('carries no secret and no hash of one in any event', async () => {
    const payloads = (await readEventsStream(nc)).map((e) => JSON.stringify(e));
    expect(secrets.length).toBeGreaterThanOrEqual(5);
    for (const secret of secrets) {
      const hashed = createHash('sha256').update(secret).digest('hex');
      for (const payload of payloads) {
        expect(payload.includes(secret)).toBe(false);
        expect(payload.includes(hashed)).toBe(false);
      }
    }
  });
});
