import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { randomUUID } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import pg from 'pg';
import { CiEvents } from '../../libs/contracts/src/ci/events';
import { EVENTS_STREAM } from '../../libs/contracts/src/kernel';
import { IdentityRequests } from '../../libs/contracts/src/identity/requests';
import type { EventEnvelope } from '../../libs/contracts/src/envelope';
import { RpcClient } from '../../libs/platform/src/messaging/rpc-client';
import { readEventsStream } from '../../libs/platform/src/testing/stream-reader';
import { waitFor } from '../../libs/platform/src/testing/wait-for';
import { Api } from '../support/api';
import { startGantry, type GantryStack } from '../support/gantry-stack';

/** The ci-runner is not written yet: this test plays it, over NATS, as the ci-runner will. */
const CI_RUNNER = { requestId: 'ci-runner-e2e', actor: { kind: 'service' as const, id: 'ci-runner', name: 'ci-runner' }, ip: null };
const CONSUMER = 'identity-ci-run-ended';
const HOUR = 3600_000;

describe('CI job tokens: issued to a run, refused once the run ended (two gateways)', () => {
  let stack: GantryStack;
  let a: Api;
  let b: Api;
  let admin: string;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let rpc: RpcClient;
  let db: pg.Client;
  const repos: Record<string, string> = {};
  const secrets: string[] = [];

  const issue = async (repo: string, runId: string = randomUUID(), expiresAt = new Date(Date.now() + HOUR).toISOString()) => {
    const issued = await rpc.request(IdentityRequests.ciTokens.issue, { runId, repoId: repos[repo], expiresAt }, CI_RUNNER);
    secrets.push(issued.token);
    return { ...issued, runId };
  };
  /** Publishes `ci.run.ended` as the ci-runner's relay would; resolves once identity acked it. */
  const endRun = async (runId: string, repo: string, options: { id?: string; msgID?: string } = {}) => {
    const id = options.id ?? randomUUID();
    const envelope: EventEnvelope = {
      id, type: CiEvents.runEnded.type, schemaVersion: 1, stream: `run-${runId}`, version: 3, occurredAt: new Date().toISOString(),
      actor: CI_RUNNER.actor, subject: { kind: 'run', id: runId }, requestId: null, ip: null,
      data: CiEvents.runEnded.data.parse({ runId, repoId: repos[repo], status: 'succeeded', exitCode: 0, reason: null, durationMs: 1200 }),
    };
    const ack = await jetstream(nc).publish(CiEvents.runEnded.subject, JSON.stringify(envelope), { msgID: options.msgID ?? id });
    return { envelope, seq: ack.seq, duplicate: ack.duplicate };
  };
  /** Identity acks only after its commit and the gateways' invalidation acks: then it is all done. */
  const applied = (seq: number) =>
    waitFor(async () => {
      const info = await jsm.consumers.info(EVENTS_STREAM.name, CONSUMER);
      return info.ack_floor.stream_seq >= seq && info.num_pending === 0 && info.num_ack_pending === 0;
    }, { timeoutMs: 15000, message: `identity did not apply ci.run.ended #${seq}` });
  const whoami = (api: Api, token: string) => api.get('/api/v1/user', token);
  const identityEvents = async (type: string, tokenId: string) =>
    (await db.query(`SELECT data, meta FROM identity.events WHERE type = $1 AND data->>'tokenId' = $2`, [type, tokenId])).rows;

  beforeAll(async () => {
    stack = await startGantry({ gateways: 2 });
    a = new Api(stack);
    b = a.on(stack.urls[1]);
    admin = await a.login(stack.admin.username, stack.admin.password);
    secrets.push(admin, stack.admin.password);
    for (const [name, visibility] of [['ci-home', 'private'], ['ci-other', 'private'], ['ci-public', 'public'], ['ci-doomed', 'private']]) {
      const created = await a.post('/api/v1/repos', admin, { name, visibility });
      expect(created.status).toBe(201);
      repos[name] = created.body.id;
    }
    nc = await connect({ servers: stack.infra.nats.url, ...stack.infra.nats.admin });
    jsm = await jetstreamManager(nc);
    rpc = new RpcClient(nc, 5000);
    db = new pg.Client({ connectionString: stack.infra.databaseUrl });
    await db.connect();
  });
  afterAll(async () => {
    await db?.end();
    await nc?.close();
    await stack?.stop();
  });

  it('issues a gtc_ token that reads its own repository and nothing else', async () => {
    const ci = await issue('ci-home');
    expect(ci.token).toMatch(/^gtc_[0-9A-Za-z]{36}$/);
    const me = await whoami(b, ci.token);
    expect(me.status).toBe(200);
    expect(me.body).toEqual({
      kind: 'ci_job', user: null, repoId: repos['ci-home'], runId: ci.runId, scopes: ['repo:read', 'assets:write'],
      expiresAt: new Date(Math.floor(Date.parse(ci.expiresAt) / 1000) * 1000).toISOString(),
    });
    expect((await a.get('/api/v1/repos/admin/ci-home', ci.token)).body).toMatchObject({ id: repos['ci-home'], fullName: 'admin/ci-home' });
    const other = await a.get('/api/v1/repos/admin/ci-public', ci.token);
    expect([other.status, other.body.error.code]).toEqual([403, 'wrong_repository']);
    const hidden = await a.get('/api/v1/repos/admin/ci-other', ci.token);
    expect([hidden.status, hidden.body.error.code]).toEqual([404, 'not_found']);
    for (const path of ['/api/v1/user/tokens', '/api/v1/users', '/api/v1/runners', '/api/v1/repos', '/api/v1/repos/admin/ci-home/keys']) {
      const response = await a.get(path, ci.token);
      expect([path, response.status, response.body.error.code]).toEqual([path, 403, 'forbidden']);
    }
  });

  it('caps the lifetime at 25 h and refuses a past expiry or an unknown repository', async () => {
    const capped = await issue('ci-home', randomUUID(), new Date(Date.now() + 48 * HOUR).toISOString());
    expect(Date.parse(capped.expiresAt)).toBeLessThanOrEqual(Date.now() + 25 * HOUR);
    expect(Date.parse(capped.expiresAt)).toBeGreaterThan(Date.now() + 25 * HOUR - 60_000);
    const request = (repoId: string, expiresAt: string) => rpc.request(IdentityRequests.ciTokens.issue, { runId: randomUUID(), repoId, expiresAt }, CI_RUNNER);
    await expect(request(repos['ci-home'], new Date(Date.now() - 1000).toISOString())).rejects.toMatchObject({ code: 'invalid_request', field: 'expiresAt' });
    await expect(request(randomUUID(), new Date(Date.now() + HOUR).toISOString())).rejects.toMatchObject({ code: 'not_found' });
  });

  it('run.ended revokes every token of the run at every gateway that cached it; a later issue → run_finished', async () => {
    const runId = randomUUID();
    const [first, second] = [await issue('ci-home', runId), await issue('ci-home', runId)];
    const unrelated = await issue('ci-other');
    for (const gateway of [a, b]) for (const ci of [first, second, unrelated]) expect((await whoami(gateway, ci.token)).status).toBe(200); // now cached
    const { seq } = await endRun(runId, 'ci-home');
    await applied(seq);
    for (const gateway of [a, b]) {
      for (const ci of [first, second]) {
        const refused = await whoami(gateway, ci.token);
        expect([refused.status, refused.body.error.code]).toEqual([401, 'token_revoked']);
      }
      expect((await whoami(gateway, unrelated.token)).status).toBe(200);
    }
    await expect(issue('ci-home', runId)).rejects.toMatchObject({ code: 'run_finished' });
    const [revoked] = await identityEvents('identity.ci_token.revoked', first.tokenId);
    expect(revoked.data).toEqual({ tokenId: first.tokenId, runId, reason: 'run_ended' });
    expect(revoked.meta.actor).toEqual(CI_RUNNER.actor); // the run's end caused it
  });

  it('a redelivered or repeated run.ended applies once', async () => {
    const ci = await issue('ci-home');
    const once = await endRun(ci.runId, 'ci-home');
    await applied(once.seq);
    // The same event again: deduplicated by JetStream within its window, by identity beyond it.
    expect((await endRun(ci.runId, 'ci-home', { id: once.envelope.id })).duplicate).toBe(true);
    const beyondWindow = await endRun(ci.runId, 'ci-home', { id: once.envelope.id, msgID: randomUUID() });
    await applied(beyondWindow.seq);
    const another = await endRun(ci.runId, 'ci-home'); // a second end event of the same run
    await applied(another.seq);
    expect(await identityEvents('identity.ci_token.revoked', ci.tokenId)).toHaveLength(1);
    const consumed = await db.query('SELECT event_id FROM identity.consumed_events WHERE consumer = $1 AND event_id = ANY($2::uuid[])', [CONSUMER, [once.envelope.id, another.envelope.id]]);
    expect(consumed.rows).toHaveLength(2);
    const ended = await db.query('SELECT ended_at FROM identity.ci_runs_ended WHERE run_id = $1', [ci.runId]);
    expect(ended.rows.map((row) => row.ended_at.toISOString())).toEqual([once.envelope.occurredAt]);
  });

  it('identity down when the run ends: the token is revoked before identity answers anything', async () => {
    const runId = randomUUID();
    const cached = await issue('ci-home', runId);
    const uncached = await issue('ci-home', runId);
    expect((await whoami(a, cached.token)).status).toBe(200);
    await stack.processes.find((p) => p.name === 'identity')!.stop();
    // By design a gateway trusts what it cached for the TTL while identity is away.
    expect((await whoami(a, cached.token)).status).toBe(200);
    // A backlog of other runs' ends first, so identity could not have applied ours by chance
    // before it answers (without the catch-up wait, it answers while still working through them).
    await Promise.all(Array.from({ length: 300 }, () => endRun(randomUUID(), 'ci-other')));
    await endRun(runId, 'ci-home');
    await stack.restart('identity'); // spawns it; the stop inside finds it already stopped
    const statuses: number[] = [];
    const deadline = Date.now() + 30000;
    let last;
    do {
      last = await whoami(a, uncached.token);
      statuses.push(last.status);
      if (last.status === 503) await new Promise((resolve) => setTimeout(resolve, 25));
    } while (last.status === 503 && Date.now() < deadline);
    // 503 while identity is down or starting, then its very first answer is the revocation.
    expect(statuses.slice(0, -1).every((status) => status === 503)).toBe(true);
    expect([last.status, last.body.error?.code]).toEqual([401, 'token_revoked']);
    // The catch-up also told the gateways: the cached principal is gone too.
    const refused = await whoami(a, cached.token);
    expect([refused.status, refused.body.error.code]).toEqual([401, 'token_revoked']);
  });

  it("deleting a repository revokes its CI tokens at every gateway before the delete answers", async () => {
    const ci = await issue('ci-doomed');
    for (const gateway of [a, b]) expect((await whoami(gateway, ci.token)).status).toBe(200);
    expect((await a.delete('/api/v1/repos/admin/ci-doomed', admin)).status).toBe(204);
    for (const gateway of [b, a]) expect((await whoami(gateway, ci.token)).body.error.code).toBe('token_revoked');
    expect((await identityEvents('identity.ci_token.revoked', ci.tokenId)).map((e) => e.data.reason)).toEqual(['repo_deleted']);
    await expect(issue('ci-doomed')).rejects.toMatchObject({ code: 'not_found' });
  });

  it('a replay rebuilds ci_tokens equal to the live one', async () => {
    const snapshot = async () => (await db.query('SELECT * FROM identity.ci_tokens ORDER BY id')).rows;
    const live = await snapshot();
    expect(live.filter((row) => row.revoked_at !== null).length).toBeGreaterThanOrEqual(5);
    await db.query('UPDATE identity.ci_tokens SET revoked_at = NULL, revoke_reason = NULL'); // damage the read model
    const replay = spawnSync(process.execPath, ['dist/apps/identity/src/replay.js'], { env: { PATH: process.env.PATH, GANTRY_DATABASE_URL: stack.infra.databaseUrl }, encoding: 'utf8' });
    expect(replay.status).toBe(0);
    expect(await snapshot()).toEqual(live);
  });

  it('issued and revoked events are on the EVENTS stream; no event and no log line holds a raw token', async () => {
    const ids = (await db.query<{ id: string }>(`SELECT id FROM identity.events WHERE type LIKE 'identity.ci_token.%'`)).rows.map((row) => row.id);
    const events = await waitFor(async () => {
      const all = await readEventsStream(nc);
      const seen = new Set(all.map((e) => e.id));
      return ids.every((id) => seen.has(id)) && all;
    }, { timeoutMs: 15000, message: 'ci_token events not published' });
    const issued = events.filter((e) => e.type === 'identity.ci_token.issued');
    expect(issued.length).toBeGreaterThanOrEqual(8);
    expect(Object.keys(issued[0].data as object).sort()).toEqual(['expiresAt', 'repoId', 'runId', 'tokenId']);
    expect(issued[0]).toMatchObject({ actor: CI_RUNNER.actor, requestId: CI_RUNNER.requestId, subject: { kind: 'ci_token' } });
    expect(new Set(events.filter((e) => e.type === 'identity.ci_token.revoked').map((e) => (e.data as { reason: string }).reason))).toEqual(new Set(['run_ended', 'repo_deleted']));
    const text = JSON.stringify(events) + stack.logs();
    expect(secrets.filter((secret) => text.includes(secret))).toEqual([]);
  });
});
