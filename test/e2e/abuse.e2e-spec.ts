import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GatewaySignals, IdentityRequests } from '../../libs/contracts/src/index';
import { generateToken } from '../../libs/contracts/src/tokens';
import { freePort } from '../../libs/platform/src/infra/free-port';
import { readEventsStream } from '../../libs/platform/src/testing/stream-reader';
import { waitFor } from '../../libs/platform/src/testing/wait-for';
import { startGantry, type GantryStack } from '../support/gantry-stack';
import { httpFrom } from '../support/http-from';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const statuses = (answers: { status: number }[]) => answers.map((a) => a.status).sort();
const count = (values: number[], value: number) => values.filter((v) => v === value).length;

/**
 * Abuse paths (issue 10 §3). One stack behind a pretend reverse proxy: the gateway trusts
 * X-Forwarded-For from 127.0.0.1 only, so each test speaks as its own client IPs through "the
 * proxy", and as an untrusted peer from 127.0.0.2. Per-client budgets are small and refill slowly
 * (0.01/s): a 429 here means a budget ran out, never a refill race.
 */
describe('abuse paths: client IPs, password and token guessing, leak reports, operational endpoints', () => {
  let stack: GantryStack;
  let nc: NatsConnection;
  let metricsUrl: string;
  let dataDir: string;
  let adminPassword: string;
  let admin: string;
  let adminId: string;

  const url = (path: string) => `${stack.url}${path}`;
  const login = (username: string, password: string, client: string) =>
    httpFrom(url('/api/v1/auth/login'), { method: 'POST', body: { username, password }, forwardedFor: client });
  /** Counts the requests identity is sent on `subject` (a plain subscription sees every one). */
  const requestsOn = async (subject: string) => {
    let seen = 0;
    nc.subscribe(subject, { callback: () => void seen++ });
    await nc.flush();
    return () => seen;
  };
  const createUser = async (username: string) => {
    const password = `pw-${username}-0123456789`;
    const created = await httpFrom(url('/api/v1/users'), { method: 'POST', token: admin, body: { username, password, role: 'member' } });
    expect(created.status).toBe(201);
    return { id: created.body.user.id as string, password };
  };
  const pat = async (session: string, scopes: string[] = ['repo:read'], expiresInDays = 30) => {
    const created = await httpFrom(url('/api/v1/user/tokens'), { method: 'POST', token: session, body: { name: `t-${Math.random()}`, scopes, expiresInDays } });
    expect(created.status).toBe(201);
    return created.body as { id: string; token: string; expiresAt: string };
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'gantry-abuse-'));
    const metricsPort = await freePort();
    metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    stack = await startGantry({
      env: {
        GANTRY_TRUST_PROXY: '127.0.0.1',
        GANTRY_RATE_LIMIT_ANON_PER_SECOND: '0.01', GANTRY_RATE_LIMIT_ANON_BURST: '40',
        GANTRY_LOGIN_FREE_ATTEMPTS: '3', GANTRY_LOGIN_USER_FREE_ATTEMPTS: '6',
        GANTRY_METRICS_PORT: String(metricsPort),
        // No admin password: identity generates one and writes it to the data directory.
        GANTRY_ADMIN_PASSWORD: '', GANTRY_DATA_DIR: dataDir,
      },
    });
    nc = await connect({ servers: stack.infra.nats.url, ...stack.infra.nats.admin });
    adminPassword = readFileSync(join(dataDir, 'initial_admin_password'), 'utf8').trim();
    const session = await login('admin', adminPassword, '192.0.2.1');
    expect(session.status).toBe(200);
    admin = session.body.token;
    adminId = session.body.user.id;
  });
  afterAll(async () => {
    await nc?.close();
    await stack?.stop();
  });

  it('bootstrap: the generated admin password is in a 0600 file in GANTRY_DATA_DIR, and in no log', () => {
    const file = join(dataDir, 'initial_admin_password');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(adminPassword.length).toBeGreaterThanOrEqual(20);
    const logs = stack.logs();
    expect(logs).not.toContain(adminPassword);
    expect(logs).toContain(file); // identity says where to find it
  });

  describe('client IP', () => {
    it('a spoofed X-Forwarded-For from an untrusted peer changes nothing: the limit applies to the peer', async () => {
      // 127.0.0.2 is not the trusted proxy: each request claims another client, all count as 127.0.0.2.
      const answers = [];
      for (const i of range(45)) answers.push(await httpFrom(url('/api/v1/user'), { from: '127.0.0.2', forwardedFor: `198.18.0.${i}` }));
      expect(count(statuses(answers), 401)).toBe(40);
      expect(answers.at(-1)!.status).toBe(429);
      // The real proxy's forwarded clients are told apart (and are not the proxy itself).
      expect((await httpFrom(url('/api/v1/user'), { forwardedFor: '198.18.0.1' })).status).toBe(401);
    });

    it('IPv6 clients share a budget per /64', async () => {
      const answers = [];
      for (const i of range(41)) answers.push(await httpFrom(url('/api/v1/user'), { forwardedFor: `2001:db8:1:2::${(i + 1).toString(16)}` }));
      expect(count(statuses(answers), 401)).toBe(40);
      expect(answers.at(-1)!.status).toBe(429);
      expect((await httpFrom(url('/api/v1/user'), { forwardedFor: '2001:db8:1:2:ffff:ffff:ffff:ffff' })).status).toBe(429);
      expect((await httpFrom(url('/api/v1/user'), { forwardedFor: '2001:db8:1:3::1' })).status).toBe(401); // the next /64
    });
  });

  describe('password guessing', () => {
    it('login: 30 parallel wrong guesses count as 30 — only the free ones and one more reach identity', async () => {
      await createUser('burst');
      const logins = await requestsOn(IdentityRequests.login.subject);
      const answers = await Promise.all(range(30).map((i) => login('burst', `wrong-password-${i}`, '203.0.113.10')));
      expect([count(statuses(answers), 401), count(statuses(answers), 429)]).toEqual([4, 26]); // 3 free + 1
      expect(logins()).toBe(4);
      const limited = answers.find((a) => a.status === 429)!;
      expect([limited.body.error.code, Number(limited.headers['retry-after']) >= 1]).toEqual(['rate_limited', true]);
    });

    it('login: a per-username limit across clients slows strangers down, never the user\'s own client', async () => {
      const user = await createUser('spread');
      expect((await login('spread', user.password, '198.51.100.50')).status).toBe(200); // the user's usual client
      for (const i of range(7)) expect((await login('spread', 'wrong-password', `203.0.113.${100 + i}`)).status).toBe(401); // 6 free + 1
      const slowed = await login('spread', 'wrong-password', '203.0.113.120'); // a fresh client, yet it waits
      expect([slowed.status, slowed.body.error.code]).toEqual([429, 'rate_limited']);
      await sleep(Number(slowed.headers['retry-after']) * 1000);
      expect((await login('spread', 'wrong-password', '203.0.113.121')).status).toBe(401); // now 2 s
      // Even the right password waits from an unknown client (a slow-down)…
      expect((await login('spread', user.password, '203.0.113.122')).status).toBe(429);
      // …but not from the user's own: no lock-out an attacker could impose.
      expect((await login('spread', user.password, '198.51.100.50')).status).toBe(200);
      expect((await login('spread', user.password, '203.0.113.122')).status).toBe(200); // a success clears the count
    });

    it('PUT /api/v1/user/password: a wrong current password backs off like a login, parallel guesses included', async () => {
      const user = await createUser('changer');
      const session = (await login('changer', user.password, '198.51.100.60')).body.token as string;
      const changes = await requestsOn(IdentityRequests.users.changePassword.subject);
      const answers = await Promise.all(
        range(30).map((i) => httpFrom(url('/api/v1/user/password'), { method: 'PUT', token: session, forwardedFor: '198.51.100.60', body: { currentPassword: `not-it-${i}-at-all`, newPassword: 'a-brand-new-password' } })),
      );
      expect([count(statuses(answers), 400), count(statuses(answers), 429)]).toEqual([4, 26]);
      expect(answers.filter((a) => a.status === 400).every((a) => a.body.error.field === 'currentPassword')).toBe(true);
      expect(changes()).toBe(4);
      // One backoff for both doors: past the wait, one more wrong guess (now 2 s), then a login from that client waits too.
      await sleep(Number(answers.find((a) => a.status === 429)!.headers['retry-after']) * 1000);
      const wrong = await httpFrom(url('/api/v1/user/password'), { method: 'PUT', token: session, forwardedFor: '198.51.100.60', body: { currentPassword: 'still-not-it-at-all', newPassword: 'a-brand-new-password' } });
      expect(wrong.status).toBe(400);
      expect((await login('changer', user.password, '198.51.100.60')).status).toBe(429);
      expect((await login('changer', user.password, '198.51.100.61')).status).toBe(200);
    });
  });

  it('token guessing: over its budget a client is refused before any lookup; unknown hashes are remembered', async () => {
    const client = '198.51.100.70';
    const cached = await pat(admin);
    expect((await httpFrom(url('/api/v1/user'), { token: cached.token, forwardedFor: client })).status).toBe(200);
    const resolves = await requestsOn(IdentityRequests.resolve.subject);
    const unknown = generateToken('pat');
    for (const _ of range(3)) expect((await httpFrom(url('/api/v1/user'), { token: unknown, forwardedFor: client })).status).toBe(401);
    expect(resolves()).toBe(1); // the negative cache answered twice
    let guesses = 3;
    let last;
    do {
      last = await httpFrom(url('/api/v1/user'), { token: generateToken('pat'), forwardedFor: client });
      guesses++;
    } while (last.status === 401 && guesses < 60);
    expect([guesses, last.status]).toEqual([41, 429]);
    const barrier = await pat(admin);
    const before = resolves();
    for (const _ of range(20)) expect((await httpFrom(url('/api/v1/user'), { token: generateToken('pat'), forwardedFor: client })).status).toBe(429);
    // A credential already cached still works from there (no lookup needed).
    expect((await httpFrom(url('/api/v1/user'), { token: cached.token, forwardedFor: client })).status).toBe(200);
    // Barrier: a lookup from elsewhere; the gateway's requests arrive in order, so any refused guess that was looked up came first.
    expect((await httpFrom(url('/api/v1/user'), { token: barrier.token, forwardedFor: '198.51.100.71' })).status).toBe(200);
    await waitFor(() => resolves() > before, { message: 'the barrier lookup never reached identity' });
    expect(resolves()).toBe(before + 1);
  });

  it('leak reports: an event only when a credential died; every report counted on the metrics listener', async () => {
    const nothing = await httpFrom(url('/api/v1/credentials/revoke'), { method: 'POST', body: { tokens: [generateToken('pat'), generateToken('apiKey'), 'garbage'] } });
    expect([nothing.status, nothing.body]).toEqual([202, {}]);
    const leaked = await pat(admin);
    const report = await httpFrom(url('/api/v1/credentials/revoke'), { method: 'POST', body: { tokens: [leaked.token] } });
    expect([report.status, report.body]).toEqual([202, {}]);
    // The relay publishes in order: once the second report's event is out, the first's would be too.
    const leaks = await waitFor(async () => {
      const events = (await readEventsStream(nc)).filter((e) => e.type === 'identity.credential.revoked_as_leaked');
      return events.length > 0 ? events : undefined;
    }, { message: 'no revoked_as_leaked event' });
    expect(leaks.map((e) => e.data)).toEqual([{ submitted: 1, revoked: [{ kind: 'pat', id: leaked.id }] }]);
    const metrics = (await httpFrom(metricsUrl)).body as string;
    expect(metrics).toMatch(/gantry_leak_reports_total\{outcome="nothing_revoked"\} 1\b/);
    expect(metrics).toMatch(/gantry_leak_reports_total\{outcome="revoked"\} 1\b/);
    expect(metrics).toMatch(/gantry_leak_report_tokens_total\{result="malformed"\} 1\b/);
  });

  describe('public operational endpoints', () => {
    it('/readyz answers from one check a second, however many ask', async () => {
      const pings = await requestsOn(IdentityRequests.ping.subject);
      const started = Date.now();
      const answers = await Promise.all(range(25).map(() => httpFrom(url('/readyz'))));
      for (const _ of range(10)) answers.push(await httpFrom(url('/readyz')));
      expect(answers.every((a) => a.status === 200 && a.body.status === 'ready')).toBe(true);
      const seconds = Math.ceil((Date.now() - started) / 1000);
      expect(pings()).toBeLessThanOrEqual(seconds + 1);
      expect(pings()).toBeLessThan(5);
    });

    it('/metrics is not on the public port; it is served on its own listener', async () => {
      expect((await httpFrom(url('/metrics'))).status).toBe(404);
      const metrics = await httpFrom(metricsUrl);
      expect(metrics.status).toBe(200);
      expect(metrics.body).toMatch(/gantry_http_requests_total\{method="GET",route="\/readyz",status="200"\} \d+/);
      expect((await httpFrom(metricsUrl.replace('/metrics', '/other'))).status).toBe(404);
    });
  });

  describe('odds and ends', () => {
    it('X-Gantry-Key takes repository API keys (gtk_) only', async () => {
      expect((await httpFrom(url('/api/v1/repos'), { method: 'POST', token: admin, body: { name: 'keyed', visibility: 'private' } })).status).toBe(201);
      const created = await httpFrom(url('/api/v1/repos/admin/keyed/keys'), { method: 'POST', token: admin, body: { name: 'k', scopes: ['repo:read'] } });
      const key = (created.body.key ?? created.body.token) as string;
      expect((await httpFrom(url('/api/v1/repos/admin/keyed'), { headers: { 'x-gantry-key': key } })).status).toBe(200);
      const { token } = await pat(admin);
      const refused = await httpFrom(url('/api/v1/user'), { headers: { 'x-gantry-key': token } });
      expect([refused.status, refused.body.error.code]).toEqual([401, 'invalid_token']);
      expect(refused.body.error.message).toMatch(/gtk_/);
      expect((await httpFrom(url('/api/v1/user'), { token })).status).toBe(200);
    });

    it('the admin route does not set your own password (a users:admin PAT cannot take over its owner)', async () => {
      const adminPat = await pat(admin, ['users:admin']);
      for (const token of [adminPat.token, admin]) {
        const self = await httpFrom(url(`/api/v1/users/${adminId}/password`), { method: 'PUT', token, body: { password: 'taken-over-password' } });
        expect([self.status, self.body.error.code]).toEqual([409, 'cannot_modify_self']);
        expect(self.body.error.message).toMatch(/PUT \/api\/v1\/user\/password/);
      }
      const other = await createUser('reset-by-admin');
      expect((await httpFrom(url(`/api/v1/users/${other.id}/password`), { method: 'PUT', token: adminPat.token, body: { password: 'set-by-the-admin-1' } })).status).toBe(204);
      expect((await login('admin', adminPassword, '192.0.2.1')).status).toBe(200); // unchanged
    });

    it('rotating a PAT keeps its expiry', async () => {
      const original = await pat(admin, ['repo:read'], 3);
      const rotated = await httpFrom(url(`/api/v1/user/tokens/${original.id}/rotate`), { method: 'POST', token: admin });
      expect(rotated.status).toBe(201);
      expect(rotated.body.expiresAt).toBe(original.expiresAt);
      const again = await httpFrom(url(`/api/v1/user/tokens/${rotated.body.id}/rotate`), { method: 'POST', token: admin });
      expect(again.body.expiresAt).toBe(original.expiresAt);
    });

    it('a runner adds labels beyond its install token\'s only when the token allows it', async () => {
      const mint = async (body: object) => (await httpFrom(url('/api/v1/install-tokens'), { method: 'POST', token: admin, body })).body as { id: string; token: string };
      const exchange = (token: string, labels: string[]) => httpFrom(url('/api/v1/install-tokens/exchange'), { method: 'POST', body: { token, runnerName: 'r', labels } });
      const strict = await mint({ labels: ['linux'] });
      const refused = await exchange(strict.token, ['linux', 'gpu']);
      expect([refused.status, refused.body.error.code, refused.body.error.field]).toEqual([403, 'forbidden', 'labels']);
      expect(refused.body.error.message).toContain('gpu');
      const same = await exchange(strict.token, ['linux']); // the refusal did not use the token up
      expect([same.status, same.body.labels]).toEqual([200, ['linux']]);
      const open = await mint({ labels: ['linux'], allowRunnerLabels: true });
      const extended = await exchange(open.token, ['gpu']);
      expect([extended.status, extended.body.labels]).toEqual([200, ['linux', 'gpu']]);
      const listed = (await httpFrom(url('/api/v1/install-tokens'), { token: admin })).body.items as { id: string; allowRunnerLabels: boolean }[];
      expect([strict.id, open.id].map((id) => listed.find((t) => t.id === id)?.allowRunnerLabels)).toEqual([false, true]);
    });

    it('an unreadable invalidation message flushes the whole auth cache and is acknowledged', async () => {
      const { token } = await pat(admin);
      expect((await httpFrom(url('/api/v1/user'), { token })).status).toBe(200);
      const resolves = await requestsOn(IdentityRequests.resolve.subject);
      expect((await httpFrom(url('/api/v1/user'), { token })).status).toBe(200);
      expect(resolves()).toBe(0); // cached
      const ack = await nc.request(GatewaySignals.invalidate.subject, 'not json {', { timeout: 2000 });
      expect(ack.json()).toHaveProperty('gatewayId');
      expect((await httpFrom(url('/api/v1/user'), { token })).status).toBe(200);
      expect(resolves()).toBe(1); // asked identity again
    });
  });
});
