import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect } from '@nats-io/transport-node';
import { IdentityRequests } from '../../libs/contracts/src';
import { RpcClient } from '../../libs/platform/src/messaging/rpc-client';
import { Api } from '../support/api';
import { startGantry, type GantryStack } from '../support/gantry-stack';

describe('users, sessions and safeguards through two gateways', () => {
  let stack: GantryStack;
  let a: Api;
  let b: Api;
  let admin: string;
  let adminId: string;

  beforeAll(async () => {
    stack = await startGantry({ gateways: 2 });
    a = new Api(stack);
    b = a.on(stack.urls[1]);
    admin = await a.login(stack.admin.username, stack.admin.password);
    adminId = (await a.get('/api/v1/user', admin)).body.user.id;
  });
  afterAll(async () => stack?.stop());

  /** Demotes every active admin but `keep`, so a race starts from exactly these admins. */
  const onlyAdmins = async (...keep: string[]) => {
    const everyone = (await a.get('/api/v1/users?limit=100', admin)).body.items as { id: string; role: string; active: boolean }[];
    for (const user of everyone.filter((u) => u.role === 'admin' && u.active && !keep.includes(u.id))) {
      expect((await a.patch(`/api/v1/users/${user.id}`, admin, { role: 'member' })).status).toBe(200);
    }
  };

  describe('administration', () => {
    it('creates users (201), with a generated password when none is given', async () => {
      const created = await a.post('/api/v1/users', admin, { username: 'carol', role: 'member', displayName: 'Carol' });
      expect(created.status).toBe(201);
      expect(created.body.user).toMatchObject({ username: 'carol', role: 'member', displayName: 'Carol', active: true, deactivatedAt: null });
      expect(created.body.generatedPassword.length).toBeGreaterThanOrEqual(12);
      expect((await a.post('/api/v1/auth/login', undefined, { username: 'carol', password: created.body.generatedPassword })).status).toBe(200);
    });

    it('validates usernames and passwords; usernames are unique', async () => {
      const taken = await a.post('/api/v1/users', admin, { username: 'carol', role: 'member' });
      expect([taken.status, taken.body.error.code]).toEqual([409, 'username_taken']);
      const weak = await a.post('/api/v1/users', admin, { username: 'weak', password: 'short', role: 'member' });
      expect([weak.status, weak.body.error.code, weak.body.error.field]).toEqual([400, 'weak_password', 'password']);
      for (const username of ['Upper', 'with space', '', 'x'.repeat(40), 'under_score']) {
        const bad = await a.post('/api/v1/users', admin, { username, role: 'member' });
        expect([bad.status, bad.body.error.code, bad.body.error.field]).toEqual([400, 'invalid_request', 'username']);
      }
      const role = await a.post('/api/v1/users', admin, { username: 'rooty', role: 'root' });
      expect([role.status, role.body.error.field]).toEqual([400, 'role']);
    });

    it('lists with pagination, gets, patches', async () => {
      for (const name of ['page-a', 'page-b', 'page-c']) await a.post('/api/v1/users', admin, { username: name, role: 'member' });
      const first = await a.get('/api/v1/users?limit=2', admin);
      expect(first.body.items).toHaveLength(2);
      const seen = [...first.body.items];
      let cursor = first.body.nextCursor;
      while (cursor) {
        const next = await a.get(`/api/v1/users?limit=2&cursor=${cursor}`, admin);
        seen.push(...next.body.items);
        cursor = next.body.nextCursor;
      }
      expect(seen.map((u) => u.username)).toEqual([...seen.map((u) => u.username)].sort());
      expect(seen.map((u) => u.username)).toEqual(expect.arrayContaining(['admin', 'carol', 'page-a', 'page-b', 'page-c']));
      const carol = seen.find((u) => u.username === 'carol');
      expect((await a.get(`/api/v1/users/${carol.id}`, admin)).body.username).toBe('carol');
      const patched = await a.patch(`/api/v1/users/${carol.id}`, admin, { displayName: 'Carol C.' });
      expect(patched.body.displayName).toBe('Carol C.');
      expect((await a.get('/api/v1/users/00000000-0000-0000-0000-000000000000', admin)).status).toBe(404);
      expect((await a.get('/api/v1/users/not-a-uuid', admin)).status).toBe(404);
      expect((await a.patch(`/api/v1/users/${carol.id}`, admin, { username: 'renamed' })).status).toBe(400);
    });

    it('a member cannot list or manage users (403)', async () => {
      const member = await a.user(admin, 'plain-member');
      expect((await a.get('/api/v1/users', member.session)).status).toBe(403);
      expect((await a.post('/api/v1/users', member.session, { username: 'x', role: 'admin' })).status).toBe(403);
      expect((await a.post(`/api/v1/users/${adminId}/deactivate`, member.session)).status).toBe(403);
    });
  });

  describe('safeguards', () => {
    it('cannot deactivate or delete yourself (409 cannot_modify_self)', async () => {
      const deactivate = await a.post(`/api/v1/users/${adminId}/deactivate`, admin);
      expect([deactivate.status, deactivate.body.error.code]).toEqual([409, 'cannot_modify_self']);
      const del = await a.delete(`/api/v1/users/${adminId}`, admin);
      expect([del.status, del.body.error.code]).toEqual([409, 'cannot_modify_self']);
    });

    it('the last active admin cannot be demoted (409 last_admin)', async () => {
      const demote = await a.patch(`/api/v1/users/${adminId}`, admin, { role: 'member' });
      expect([demote.status, demote.body.error.code]).toEqual([409, 'last_admin']);
    });

    it('two admins demoting each other at the same moment over NATS: exactly one succeeds', async () => {
      const second = await a.user(admin, 'second-admin', 'admin');
      await onlyAdmins(adminId, second.id);
      const nc = await connect({ servers: stack.infra.nats.url, ...stack.infra.nats.admin });
      const rpc = new RpcClient(nc, 5000);
      const asAdmin = (id: string, name: string) => ({ actor: { kind: 'user' as const, id, name }, requestId: null, ip: null });
      // Straight to identity, both at once: the gateway's checks cannot serialise them.
      const results = await Promise.allSettled([
        rpc.request(IdentityRequests.users.update, { userId: second.id, changes: { role: 'member' } }, asAdmin(adminId, 'admin')),
        rpc.request(IdentityRequests.users.update, { userId: adminId, changes: { role: 'member' } }, asAdmin(second.id, 'second-admin')),
      ]);
      await nc.close();
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect((results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason).toMatchObject({ code: 'last_admin' });
      const admins = (await a.get('/api/v1/users?limit=100', results[0].status === 'fulfilled' ? admin : second.session)).body.items.filter((u: { role: string; active: boolean }) => u.role === 'admin' && u.active);
      expect(admins).toHaveLength(1);
      // Leave the original admin in charge for the tests below.
      if (results[1].status === 'fulfilled') {
        await a.patch(`/api/v1/users/${adminId}`, second.session, { role: 'admin' });
        admin = await a.login(stack.admin.username, stack.admin.password);
      }
    });

    it('through the gateway, the loser of the race is refused too (403 or 409)', async () => {
      const second = await a.user(admin, 'third-admin', 'admin');
      await onlyAdmins(adminId, second.id);
      const results = await Promise.all([
        a.patch(`/api/v1/users/${second.id}`, admin, { role: 'member' }),
        b.patch(`/api/v1/users/${adminId}`, second.session, { role: 'member' }),
      ]);
      expect(results.filter((r) => r.status === 200)).toHaveLength(1);
      // 409 last_admin when both passed the gateway; 403 when the winner's demotion reached it first.
      expect(['last_admin', 'forbidden']).toContain(results.find((r) => r.status !== 200)!.body.error.code);
      if (results[1].status === 200) {
        await a.patch(`/api/v1/users/${adminId}`, second.session, { role: 'admin' });
        admin = await a.login(stack.admin.username, stack.admin.password);
      }
    });

    it('concurrent deactivations of the last two active admins over NATS: exactly one succeeds', async () => {
      const pair = await a.user(admin, 'pair-admin', 'admin');
      await onlyAdmins(adminId, pair.id);
      const nc = await connect({ servers: stack.infra.nats.url, ...stack.infra.nats.admin });
      const rpc = new RpcClient(nc, 5000);
      const as = (id: string, name: string) => ({ actor: { kind: 'user' as const, id, name }, requestId: null, ip: null });
      const results = await Promise.allSettled([
        rpc.request(IdentityRequests.users.update, { userId: pair.id, changes: { active: false } }, as(adminId, 'admin')),
        rpc.request(IdentityRequests.users.update, { userId: adminId, changes: { active: false } }, as(pair.id, 'pair-admin')),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect((results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason).toMatchObject({ code: 'last_admin' });
      if (results[1].status === 'fulfilled') {
        await rpc.request(IdentityRequests.users.update, { userId: adminId, changes: { active: true } }, as(pair.id, 'pair-admin'));
        admin = await a.login(stack.admin.username, stack.admin.password);
      }
      await nc.close();
    });
  });

  describe('deactivation, passwords, logout', () => {
    it('a deactivated user\'s session and PAT are refused at once at both gateways; login says user_deactivated', async () => {
      const user = await a.user(admin, 'leaver');
      const pat = await a.pat(user.session);
      for (const gateway of [a, b]) {
        expect((await gateway.get('/api/v1/user', user.session)).status).toBe(200);
        expect((await gateway.get('/api/v1/user', pat.token)).status).toBe(200);
      }
      expect((await a.post(`/api/v1/users/${user.id}/deactivate`, admin)).body.active).toBe(false);
      for (const gateway of [b, a]) {
        expect((await gateway.get('/api/v1/user', user.session)).status).toBe(401);
        const patResponse = await gateway.get('/api/v1/user', pat.token);
        expect([patResponse.status, patResponse.body.error.code]).toEqual([401, 'user_deactivated']);
      }
      const login = await a.post('/api/v1/auth/login', undefined, { username: 'leaver', password: user.password });
      expect([login.status, login.body.error.code]).toEqual([401, 'user_deactivated']);

      // Reactivation restores the PAT but not the session issued before the deactivation.
      expect((await b.post(`/api/v1/users/${user.id}/activate`, admin)).body.active).toBe(true);
      expect((await b.get('/api/v1/user', pat.token)).status).toBe(200);
      const oldSession = await a.get('/api/v1/user', user.session);
      expect([oldSession.status, oldSession.body.error.code]).toEqual([401, 'token_revoked']);
      expect((await a.post('/api/v1/auth/login', undefined, { username: 'leaver', password: user.password })).status).toBe(200);
    });

    it('a password change ends every other session; the current one stays', async () => {
      const user = await a.user(admin, 'rotator');
      const other = await a.login('rotator', user.password);
      expect((await b.get('/api/v1/user', other)).status).toBe(200);
      const wrong = await a.put('/api/v1/user/password', user.session, { currentPassword: 'not-it-at-all', newPassword: 'a-brand-new-password' });
      expect([wrong.status, wrong.body.error.field]).toEqual([400, 'currentPassword']);
      const weak = await a.put('/api/v1/user/password', user.session, { currentPassword: user.password, newPassword: 'short' });
      expect([weak.status, weak.body.error.code]).toEqual([400, 'weak_password']);
      expect((await a.put('/api/v1/user/password', user.session, { currentPassword: user.password, newPassword: 'a-brand-new-password' })).status).toBe(204);
      expect((await b.get('/api/v1/user', other)).body.error.code).toBe('token_revoked');
      expect((await b.get('/api/v1/user', user.session)).status).toBe(200);
      expect((await a.post('/api/v1/auth/login', undefined, { username: 'rotator', password: user.password })).status).toBe(401);
      expect((await a.post('/api/v1/auth/login', undefined, { username: 'rotator', password: 'a-brand-new-password' })).status).toBe(200);
    });

    it('an admin setting a password ends all of that user\'s sessions; a PAT cannot change a password', async () => {
      const user = await a.user(admin, 'reset-me');
      const pat = await a.pat(user.session);
      expect((await a.put('/api/v1/user/password', pat.token, { currentPassword: user.password, newPassword: 'another-long-password' })).body.error.code).toBe('session_required');
      expect((await a.put(`/api/v1/users/${user.id}/password`, admin, { password: 'set-by-the-admin-1' })).status).toBe(204);
      expect((await b.get('/api/v1/user', user.session)).body.error.code).toBe('token_revoked');
      expect((await a.post('/api/v1/auth/login', undefined, { username: 'reset-me', password: 'set-by-the-admin-1' })).status).toBe(200);
    });

    it('logout ends the session at every gateway', async () => {
      const user = await a.user(admin, 'logout-user');
      expect((await b.get('/api/v1/user', user.session)).status).toBe(200);
      expect((await a.post('/api/v1/auth/logout', user.session)).status).toBe(204);
      expect((await b.get('/api/v1/user', user.session)).body.error.code).toBe('token_revoked');
    });

    it('demotion takes effect at once: an admin\'s PAT loses admin scopes', async () => {
      const user = await a.user(admin, 'demoted', 'admin');
      const pat = await a.pat(user.session, ['users:admin', 'repo:read']);
      expect((await b.get('/api/v1/users', pat.token)).status).toBe(200);
      expect((await a.patch(`/api/v1/users/${user.id}`, admin, { role: 'member' })).body.role).toBe('member');
      expect((await b.get('/api/v1/users', pat.token)).status).toBe(403);
      expect((await b.get('/api/v1/user', pat.token)).body.scopes).toEqual(['repo:read']);
    });

    it('deleting a user kills their credentials', async () => {
      const user = await a.user(admin, 'deleted-user');
      const pat = await a.pat(user.session);
      expect((await b.get('/api/v1/user', pat.token)).status).toBe(200);
      expect((await a.delete(`/api/v1/users/${user.id}`, admin)).status).toBe(204);
      expect((await b.get('/api/v1/user', pat.token)).status).toBe(401);
      expect((await b.get('/api/v1/user', user.session)).status).toBe(401);
      expect((await a.get(`/api/v1/users/${user.id}`, admin)).status).toBe(404);
    });
  });
});
