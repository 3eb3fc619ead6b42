import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Api } from '../support/api';
import { startGantry, type GantryStack } from '../support/gantry-stack';

describe('repositories and members', () => {
  let stack: GantryStack;
  let api: Api;
  let admin: string;
  let alice: { id: string; session: string };
  let bob: { id: string; session: string };

  beforeAll(async () => {
    stack = await startGantry();
    api = new Api(stack);
    admin = await api.login(stack.admin.username, stack.admin.password);
    alice = await api.user(admin, 'alice');
    bob = await api.user(admin, 'bob');
  });
  afterAll(async () => stack?.stop());

  it('creates a repository owned by its creator', async () => {
    const created = await api.post('/api/v1/repos', alice.session, { name: 'app', visibility: 'private', description: 'the app' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ owner: 'alice', name: 'app', fullName: 'alice/app', visibility: 'private', description: 'the app' });
    const duplicate = await api.post('/api/v1/repos', alice.session, { name: 'app', visibility: 'public' });
    expect([duplicate.status, duplicate.body.error.code]).toEqual([409, 'conflict']);
    for (const name of ['..', 'a/b', 'sp ace', '']) {
      expect((await api.post('/api/v1/repos', alice.session, { name, visibility: 'private' })).status).toBe(400);
    }
    expect((await api.post('/api/v1/repos', alice.session, { name: 'x', visibility: 'secret' })).body.error.field).toBe('visibility');
  });

  it('a private repository is a 404 to a non-member, visible to its owner and instance admins', async () => {
    expect((await api.get('/api/v1/repos/alice/app', alice.session)).status).toBe(200);
    expect((await api.get('/api/v1/repos/alice/app', admin)).status).toBe(200);
    const hidden = await api.get('/api/v1/repos/alice/app', bob.session);
    expect([hidden.status, hidden.body.error.code]).toEqual([404, 'not_found']);
    expect((await api.get('/api/v1/repos/alice/missing', bob.session)).body).toEqual(expect.objectContaining({ error: expect.objectContaining({ code: 'not_found' }) }));
    expect((await api.get('/api/v1/repos', bob.session)).body.items.map((r: { fullName: string }) => r.fullName)).not.toContain('alice/app');
    expect((await api.get('/api/v1/repos', admin)).body.items.map((r: { fullName: string }) => r.fullName)).toContain('alice/app');
  });

  it('a public repository is readable by everyone signed in, writable by nobody else', async () => {
    expect((await api.post('/api/v1/repos', alice.session, { name: 'lib', visibility: 'public' })).status).toBe(201);
    expect((await api.get('/api/v1/repos/alice/lib', bob.session)).status).toBe(200);
    expect((await api.get('/api/v1/repos', bob.session)).body.items.map((r: { fullName: string }) => r.fullName)).toContain('alice/lib');
    const patch = await api.patch('/api/v1/repos/alice/lib', bob.session, { description: 'mine now' });
    expect([patch.status, patch.body.error.code]).toEqual([403, 'forbidden']);
    expect((await api.get('/api/v1/repos/alice/lib', undefined)).status).toBe(401);
  });

  it('members: read sees, write cannot administer, admin can; removal takes access away', async () => {
    const put = await api.put('/api/v1/repos/alice/app/members/bob', alice.session, { role: 'read' });
    expect([put.status, put.body.role, put.body.username]).toEqual([200, 'read', 'bob']);
    expect((await api.get('/api/v1/repos/alice/app', bob.session)).status).toBe(200);
    expect((await api.get('/api/v1/repos/alice/app/members', bob.session)).body.items).toEqual([{ userId: bob.id, username: 'bob', role: 'read' }]);
    expect((await api.patch('/api/v1/repos/alice/app', bob.session, { description: 'x' })).status).toBe(403);
    expect((await api.put('/api/v1/repos/alice/app/members/bob', bob.session, { role: 'admin' })).status).toBe(403);

    await api.put('/api/v1/repos/alice/app/members/bob', alice.session, { role: 'admin' });
    const patched = await api.patch('/api/v1/repos/alice/app', bob.session, { description: 'updated by bob' });
    expect([patched.status, patched.body.description]).toEqual([200, 'updated by bob']);

    expect((await api.delete('/api/v1/repos/alice/app/members/bob', alice.session)).status).toBe(204);
    expect((await api.get('/api/v1/repos/alice/app', bob.session)).status).toBe(404);
    expect((await api.put('/api/v1/repos/alice/app/members/nobody', alice.session, { role: 'read' })).status).toBe(404);
    expect((await api.put('/api/v1/repos/alice/app/members/bob', alice.session, { role: 'owner' })).status).toBe(400);
  });

  it('token scopes apply on top of repository roles', async () => {
    const readOnly = await api.pat(alice.session, ['repo:read']);
    expect((await api.get('/api/v1/repos/alice/app', readOnly.token)).status).toBe(200);
    const patch = await api.patch('/api/v1/repos/alice/app', readOnly.token, { description: 'x' });
    expect([patch.status, patch.body.error.code]).toEqual([403, 'forbidden']);
  });

  it('the owner deletes; the name is then free and the repository gone', async () => {
    expect((await api.delete('/api/v1/repos/alice/lib', bob.session)).status).toBe(403);
    expect((await api.delete('/api/v1/repos/alice/lib', alice.session)).status).toBe(204);
    expect((await api.get('/api/v1/repos/alice/lib', alice.session)).status).toBe(404);
    expect((await api.post('/api/v1/repos', alice.session, { name: 'lib', visibility: 'private' })).status).toBe(201);
  });
});
