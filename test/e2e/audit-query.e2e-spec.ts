import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { EventEnvelope } from '../../libs/contracts/src';
import { readEventsStream } from '../../libs/platform/src/testing/stream-reader';
import { waitFor } from '../../libs/platform/src/testing/wait-for';
import { Api } from '../support/api';
import { startGantry, type GantryStack } from '../support/gantry-stack';

/** Issue #11: GET /api/v1/audit answers what the EVENTS stream holds, filtered and paged. */
describe('audit query', () => {
  let stack: GantryStack;
  let api: Api;
  let nc: NatsConnection;
  let admin: string;
  let member: { id: string; username: string; session: string };
  let pat: { id: string; token: string };
  let stream: EventEnvelope[];

  const audit = (query: string, token = admin, headers?: Record<string, string>) => api.get(`/api/v1/audit${query}`, token, headers);
  const ids = (events: EventEnvelope[]) => events.map((e) => e.id);

  beforeAll(async () => {
    stack = await startGantry();
    api = new Api(stack);
    nc = await connect({ servers: stack.infra.nats.url, ...stack.infra.nats.admin });
    admin = await api.login(stack.admin.username, stack.admin.password);
    member = await api.user(admin, 'auditee');
    pat = await api.pat(member.session, ['repo:read'], 'audited');
    await api.delete(`/api/v1/user/tokens/${pat.id}`, member.session);
    await api.post('/api/v1/repos', admin, { name: 'audited', visibility: 'private' });
    // Everything committed so far is on the stream.
    stream = await waitFor(async () => {
      const events = await readEventsStream(nc);
      return events.some((e) => e.type === 'identity.repo.created') ? events : null;
    }, { message: 'events were not published' });
  });
  afterAll(async () => {
    await nc?.close();
    await stack?.stop();
  });

  it('pages through the whole stream in order, cursor after cursor', async () => {
    const pages: EventEnvelope[] = [];
    let cursor: string | null = null;
    do {
      const page = await audit(`?limit=4${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(4);
      pages.push(...page.body.items);
      cursor = page.body.nextCursor;
    } while (cursor && pages.length < stream.length + 10);
    expect(ids(pages.slice(0, stream.length))).toEqual(ids(stream));
    expect(pages.slice(0, stream.length)).toEqual(stream); // the envelopes as published, chain fields included
  });

  it('filters by type, type prefix, service, actor, subject and time', async () => {
    const only = async (query: string) => ((await audit(query)).body.items as EventEnvelope[]);
    const created = await only('?type=identity.pat.created');
    expect(created.map((e) => e.subject.id)).toEqual([pat.id]);
    expect((await only('?type=identity.pat.*')).map((e) => e.type)).toEqual(['identity.pat.created', 'identity.pat.revoked']);
    expect((await only('?service=identity&limit=500')).every((e) => e.type.startsWith('identity.'))).toBe(true);
    expect(await only('?service=assets&type=identity.pat.created')).toEqual([]);
    const byMember = await only(`?actor=${member.username}`);
    expect(byMember.length).toBeGreaterThanOrEqual(3); // login, PAT created, PAT revoked
    expect(byMember.every((e) => e.actor.name === member.username)).toBe(true);
    expect(ids(await only(`?actor=${member.id}`))).toEqual(ids(byMember));
    expect((await only(`?subject=pat:${pat.id}`)).map((e) => e.type)).toEqual(['identity.pat.created', 'identity.pat.revoked']);
    const revoked = stream.find((e) => e.type === 'identity.pat.revoked')!;
    const since = await only(`?since=${encodeURIComponent(revoked.occurredAt)}&limit=500`);
    expect(since.every((e) => e.occurredAt >= revoked.occurredAt)).toBe(true);
    expect(ids(since)).toContain(revoked.id);
    const until = await audit(`?until=${encodeURIComponent(stream[1].occurredAt)}&limit=500`);
    expect(until.body.items.every((e: EventEnvelope) => e.occurredAt <= stream[1].occurredAt)).toBe(true);
    expect(until.body.nextCursor).toBeNull();
  });

  it('streams every match as NDJSON with Accept: application/x-ndjson', async () => {
    const response = await fetch(`${stack.url}/api/v1/audit?service=identity`, { headers: { authorization: `Bearer ${admin}`, accept: 'application/x-ndjson' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const lines = (await response.text()).trim().split('\n').map((line) => JSON.parse(line) as EventEnvelope);
    const identityEvents = stream.filter((e) => e.type.startsWith('identity.'));
    expect(ids(lines.slice(0, identityEvents.length))).toEqual(ids(identityEvents));
    expect(ids(lines)).toEqual(ids((await audit('?service=identity&limit=500')).body.items));
    // No page limit applies to the stream.
    const two = await fetch(`${stack.url}/api/v1/audit?service=identity&limit=2`, { headers: { authorization: `Bearer ${admin}`, accept: 'application/x-ndjson' } });
    expect((await two.text()).trim().split('\n').length).toBe(lines.length);
  });

  it('is for admins with users:admin only', async () => {
    expect((await audit('', member.session)).status).toBe(403);
    const adminPat = await api.pat(admin, ['repo:read'], 'no-admin-scope');
    expect((await audit('', adminPat.token)).status).toBe(403);
    expect((await api.get('/api/v1/audit')).status).toBe(401);
  });

  it('refuses bad queries with the field named', async () => {
    for (const [query, field] of [['?limit=0', 'limit'], ['?limit=501', 'limit'], ['?cursor=%00', 'cursor'], ['?cursor=bm9wZQ', 'cursor'], ['?type=a%20b', 'type'], ['?service=billing', 'service'], ['?since=yesterday', 'since'], ['?bogus=1', 'bogus'], [`?since=${encodeURIComponent('2026-01-02T00:00:00Z')}&until=${encodeURIComponent('2026-01-01T00:00:00Z')}`, 'until']]) {
      const refused = await audit(query);
      expect([query, refused.status, refused.body.error?.field]).toEqual([query, 400, field]);
    }
  });
});
