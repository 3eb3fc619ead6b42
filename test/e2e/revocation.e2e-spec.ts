import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readEventsStream } from '../../libs/platform/src/testing/stream-reader';
import { waitFor } from '../../libs/platform/src/testing/wait-for';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { GatewaySignals, IdentityRequests } from '../../libs/contracts/src';
import { RpcClient } from '../../libs/platform/src/messaging/rpc-client';
import { Api } from '../support/api';
import { startGantry, type GantryStack } from '../support/gantry-stack';

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** The same JWT with the unused low bit of its signature's last character flipped: decodes to the same bytes. */
function variantOf(jwt: string): string {
  const last = jwt.at(-1)!;
  const flipped = B64URL[B64URL.indexOf(last) ^ 1];
  const variant = jwt.slice(0, -1) + flipped;
  const signature = (token: string) => Buffer.from(token.split('.')[2], 'base64url').toString('hex');
  if (signature(variant) !== signature(jwt)) throw new Error('not a same-bytes variant');
  return variant;
}

describe('revocation holds when a gateway goes quiet (two gateways)', () => {
  let stack: GantryStack;
  let a: Api;
  let b: Api;
  let admin: string;
  let nc: NatsConnection;
  const gatewayB = () => stack.processes.find((p) => p.name === 'gateway-b')!;
  /** Resolves on the first heartbeat heard from each of the two gateways from now on. */
  const beatFromEveryGateway = async () => {
    const heard = new Set<string>();
    const beats = nc.subscribe(GatewaySignals.presence.subject);
    for await (const message of beats) {
      heard.add(message.json<{ gatewayId: string }>().gatewayId);
      if (heard.size === stack.urls.length) break;
    }
    beats.unsubscribe();
  };
  const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  beforeAll(async () => {
    // Identity beats every 2 s: a gateway tolerates 6 s without one, longer than identity's restart.
    stack = await startGantry({ gateways: 2, env: { GANTRY_PRESENCE_INTERVAL_MS: '2000' } });
    a = new Api(stack);
    b = a.on(stack.urls[1]);
    admin = await a.login(stack.admin.username, stack.admin.password);
    nc = await connect({ servers: stack.infra.nats.url, ...stack.infra.nats.admin });
  });
  afterAll(async () => {
    await nc?.close();
    await stack?.stop();
  });

  it('a gateway paused during a revoke refuses the token on its first request after it resumes', async () => {
    const pat = await a.pat(admin, ['repo:read'], 'paused');
    expect((await b.get('/api/v1/user', pat.token)).status).toBe(200); // cached at B
    // Identity waits only for gateways it heard lately: a loaded machine can delay B's heartbeats past
    // that window, and then nothing is unacknowledged. So pause B right after a beat from each.
    await beatFromEveryGateway();
    process.kill(gatewayB().pid, 'SIGSTOP');
    try {
      const revoked = await a.delete(`/api/v1/user/tokens/${pat.id}`, admin); // B cannot ack
      expect(revoked.status).toBe(200);
    } finally {
      process.kill(gatewayB().pid, 'SIGCONT');
    }
    const first = await b.get('/api/v1/user', pat.token);
    expect([first.status, first.body.error?.code]).toEqual([401, 'token_revoked']);
    const unacknowledged = await waitFor(async () => (await readEventsStream(nc)).find((e) => e.type === 'identity.gateway.invalidation_unacknowledged'), { timeoutMs: 20_000, message: 'the missing ack was not recorded' });
    expect((unacknowledged.data as { gatewayIds: string[] }).gatewayIds).toHaveLength(1);
  });

  it('right after identity restarts, a revoke still waits for every gateway (it learns them first)', async () => {
    const pat = await a.pat(admin, ['repo:read'], 'after-restart');
    expect((await b.get('/api/v1/user', pat.token)).status).toBe(200); // cached at B
    const invalidations: { credentialIds: string[]; waitsForAcks: boolean }[] = [];
    const watch = nc.subscribe('gateway.auth.invalidate.v1', {
      callback: (_, message) => void invalidations.push({ credentialIds: message.json<{ credentialIds: string[] }>().credentialIds, waitsForAcks: Boolean(message.reply) }),
    });
    const rpc = new RpcClient(nc, 200);
    try {
      await stack.restart('identity');
      // The revoke goes out the moment identity answers: before it has heard any gateway's heartbeat.
      await waitFor(() => rpc.request(IdentityRequests.ping, {}).then(() => true, () => false), { timeoutMs: 20000, intervalMs: 10, message: 'identity did not come back' });
      expect((await a.delete(`/api/v1/user/tokens/${pat.id}`, admin)).status).toBe(200);
      await nc.flush();
      const sent = invalidations.find((i) => i.credentialIds.includes(pat.id));
      expect(sent).toEqual({ credentialIds: [pat.id], waitsForAcks: true });
      expect((await b.get('/api/v1/user', pat.token)).status).toBe(401);
    } finally {
      watch.unsubscribe();
    }
  });

  it('with NATS down a gateway serves no cached credential (503), and serves again once it is back', async () => {
    const pat = await a.pat(admin, ['repo:read'], 'nats-down');
    expect((await a.get('/api/v1/user', pat.token)).status).toBe(200);
    await stack.infra.nats.stop();
    try {
      const refused = await waitFor(async () => {
        const response = await a.get('/api/v1/user', pat.token);
        return response.status === 503 ? response : null;
      }, { message: 'a cached credential was still served with NATS down' });
      expect(refused.body.error.code).toBe('identity_unavailable');
    } finally {
      await stack.infra.nats.restart();
    }
    await waitFor(async () => (await a.get('/api/v1/user', pat.token)).status === 200, { timeoutMs: 20000, message: 'not served again after NATS came back' });
  });

  it('a non-canonical encoding of a session JWT is refused, so logout cannot miss a variant', async () => {
    const session = await a.login(stack.admin.username, stack.admin.password);
    const variant = variantOf(session);
    expect((await a.get('/api/v1/user', session)).status).toBe(200);
    const refused = await a.get('/api/v1/user', variant);
    expect([refused.status, refused.body.error.code]).toEqual([401, 'invalid_token']);
    expect((await a.post('/api/v1/auth/logout', session)).status).toBe(204);
    expect((await b.get('/api/v1/user', session)).status).toBe(401);
  });

  it('deleting a repository refuses its API keys at once at every gateway', async () => {
    await a.post('/api/v1/repos', admin, { name: 'short-lived', visibility: 'private' });
    const key = (await a.post('/api/v1/repos/admin/short-lived/keys', admin, { name: 'k', scopes: ['repo:read'] })).body.key as string;
    expect((await b.get('/api/v1/repos/admin/short-lived', key)).status).toBe(200); // cached at B
    expect((await a.delete('/api/v1/repos/admin/short-lived', admin)).status).toBe(204);
    const after = await b.get('/api/v1/repos/admin/short-lived', key);
    expect([after.status, after.body.error.code]).toEqual([401, 'token_revoked']);
    await pause(0);
  });
});
