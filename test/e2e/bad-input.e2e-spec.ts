import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ErrorEnvelopeSchema, httpStatusOf } from '../../libs/contracts/src';
import { Api } from '../support/api';
import { Ci } from '../support/ci';
import { startGantry, type GantryStack } from '../support/gantry-stack';
import { rawHttp, statusOf } from '../support/raw-http';

/** A PostgreSQL error in a service's log: a string reached the database that it cannot store. */
const POSTGRES_ENCODING_ERROR = /invalid byte sequence|unsupported Unicode escape|invalid input syntax for type json|22021|22P05|unhandled error/;

/**
 * Bad input tried as an attacker would (issue 10 §5): strings PostgreSQL cannot store, framework
 * refusals, content types other than JSON. Every answer is the error envelope with X-Request-Id.
 */
describe('bad input is refused at the edge, in the error envelope', () => {
  let stack: GantryStack;
  let api: Api;
  let admin: string;
  let userId: string;
  const repo = 'admin/probe';

  /** Sends `body` as-is with `headers`; returns status, headers and the parsed body (or text). */
  const send = async (method: string, path: string, init: { token?: string; body?: string; headers?: Record<string, string> } = {}) => {
    const headers: Record<string, string> = { ...init.headers };
    if (init.token) headers.authorization = `Bearer ${init.token}`;
    const response = await fetch(`${stack.url}${path}`, { method, headers, body: init.body });
    const text = await response.text();
    let body: any = text;
    try {
      body = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    return { status: response.status, headers: response.headers, body, text };
  };
  const sendJson = (method: string, path: string, token: string | undefined, body: unknown) =>
    send(method, path, { token, body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

  /** The answer is the envelope, its code matches the status, and X-Request-Id names it. */
  const expectEnvelope = (answer: { status: number; headers: Headers; body: any }, status: number, code: string, field?: string) => {
    expect(ErrorEnvelopeSchema.safeParse(answer.body).success ? [answer.status, answer.body.error.code] : answer).toEqual([status, code]);
    expect(httpStatusOf(answer.body.error.code)).toBe(status);
    expect(answer.headers.get('x-request-id')).toBe(answer.body.error.requestId);
    if (field !== undefined) expect(answer.body.error.field).toBe(field);
  };

  beforeAll(async () => {
    stack = await startGantry();
    api = new Api(stack);
    admin = await api.login(stack.admin.username, stack.admin.password);
    await new Ci(api).repo(admin, 'probe');
    userId = (await api.user(admin, 'someone')).id;
  });
  afterAll(async () => stack?.stop());

  describe('JSON only (a form on another site cannot log in or create anything)', () => {
    const form = { 'content-type': 'application/x-www-form-urlencoded' };

    it('refuses a form-encoded login and a form-encoded repository with 415 unsupported_media_type', async () => {
      const login = await send('POST', '/api/v1/auth/login', { body: `username=admin&password=${encodeURIComponent(stack.admin.password)}`, headers: form });
      expectEnvelope(login, 415, 'unsupported_media_type');
      const created = await send('POST', '/api/v1/repos', { token: admin, body: 'name=by-form&visibility=public', headers: form });
      expectEnvelope(created, 415, 'unsupported_media_type');
      expect((await api.get('/api/v1/repos/admin/by-form', admin)).status).toBe(404);
    });

    it('refuses text/plain, multipart and a body without a content type', async () => {
      const body = JSON.stringify({ username: 'admin', password: stack.admin.password });
      expectEnvelope(await send('POST', '/api/v1/auth/login', { body, headers: { 'content-type': 'text/plain' } }), 415, 'unsupported_media_type');
      expectEnvelope(await send('POST', '/api/v1/auth/login', { body, headers: { 'content-type': 'text/plain;charset=UTF-8' } }), 415, 'unsupported_media_type');
      const multipart = new FormData();
      multipart.set('username', 'admin');
      multipart.set('password', stack.admin.password);
      const response = await fetch(`${stack.url}/api/v1/auth/login`, { method: 'POST', body: multipart });
      expectEnvelope({ status: response.status, headers: response.headers, body: await response.json() }, 415, 'unsupported_media_type');
      expectEnvelope(await send('POST', '/api/v1/auth/login', { body }), 415, 'unsupported_media_type');
      expectEnvelope(await send('POST', '/api/v1/auth/login', { body, headers: { 'content-type': 'application/json; charset=latin1' } }), 415, 'unsupported_media_type');
    });

    it('takes application/json with or without a UTF-8 charset', async () => {
      const body = JSON.stringify({ username: 'admin', password: stack.admin.password });
      for (const type of ['application/json', 'application/json; charset=utf-8', 'Application/JSON;charset=UTF-8']) {
        expect([type, (await send('POST', '/api/v1/auth/login', { body, headers: { 'content-type': type } })).status]).toEqual([type, 200]);
      }
    });

    it('still takes any content type on the raw-body asset upload', async () => {
      const put = await send('PUT', `/api/v1/repos/${repo}/assets/notes.txt`, { token: admin, body: 'hello', headers: { 'content-type': 'text/plain' } });
      expect([put.status, put.body.contentType]).toEqual([201, 'text/plain']);
      const form = await send('PUT', `/api/v1/repos/${repo}/assets/form.bin`, { token: admin, body: 'a=b', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      expect([form.status, form.body.size]).toEqual([201, 3]);
    });
  });

  describe('strings PostgreSQL cannot store (NUL, lone surrogates): 400 naming the field', () => {
    const cases: [string, string, string, () => string | undefined, unknown][] = [
      ['displayName', 'POST', '/api/v1/users', () => admin, { username: 'nul-user', role: 'member', displayName: 'a\u0000b' }],
      ['displayName', 'POST', '/api/v1/users', () => admin, { username: 'nul-user', role: 'member', displayName: 'a\ud800b' }],
      ['displayName', 'PATCH', '/api/v1/users/:user', () => admin, { displayName: '\u0000' }],
      ['username', 'POST', '/api/v1/auth/login', () => undefined, { username: 'adm\u0000in', password: 'whatever-it-is' }],
      ['username', 'POST', '/api/v1/auth/login', () => undefined, { username: '\udc00', password: 'whatever-it-is' }],
      ['description', 'POST', '/api/v1/repos', () => admin, { name: 'surrogate', visibility: 'private', description: 'x\ud800' }],
      ['description', 'PATCH', `/api/v1/repos/${repo}`, () => admin, { description: 'x\u0000y' }],
      ['name', 'POST', '/api/v1/user/tokens', () => admin, { name: 'pat\u0000', scopes: ['repo:read'] }],
      ['name', 'POST', `/api/v1/repos/${repo}/keys`, () => admin, { name: '\udfff key', scopes: ['repo:read'] }],
      ['description', 'POST', '/api/v1/install-tokens', () => admin, { description: 'install\u0000' }],
      ['labels.0', 'POST', '/api/v1/install-tokens', () => admin, { labels: ['linux\u0000'] }],
      ['token', 'POST', '/api/v1/install-tokens/exchange', () => undefined, { token: 'gti_\u0000', runnerName: 'r1' }],
      ['tokens.0', 'POST', '/api/v1/credentials/revoke', () => undefined, { tokens: ['gtp_\u0000'] }],
    ];
    it.each(cases)('%s in %s %s', async (field, method, path, token, body) => {
      const answer = await sendJson(method, path.replace(':user', userId), token(), body);
      expectEnvelope(answer, 400, 'invalid_request', field);
    });

    it('nothing reached PostgreSQL: no encoding error in any service log', () => {
      expect(stack.logs()).not.toMatch(POSTGRES_ENCODING_ERROR);
    });
  });

  describe('path and query parameters', () => {
    it('a path segment with %00 names nothing: 404', async () => {
      for (const path of [
        '/api/v1/repos/adm%00in/probe', `/api/v1/repos/admin/pro%00be`, `/api/v1/repos/admin/probe/members`.replace('admin', 'admin%00'),
        `/api/v1/repos/${repo}/jobs/build%00`, `/api/v1/users/${userId}%00`, '/api/v1/user/tokens/%00',
      ]) expectEnvelope(await send('GET', path, { token: admin }), 404, 'not_found');
      expectEnvelope(await sendJson('PUT', `/api/v1/repos/${repo}/members/some%00one`, admin, { role: 'read' }), 404, 'not_found');
      expectEnvelope(await send('DELETE', `/api/v1/repos/${repo}/members/some%00one`, { token: admin }), 404, 'not_found');
      expectEnvelope(await send('DELETE', `/api/v1/repos/${repo}/jobs/build%00`, { token: admin }), 404, 'not_found');
      expectEnvelope(await send('GET', `/api/v1/repos/${'a'.repeat(60)}/probe`, { token: admin }), 404, 'not_found');
      // An upload refused by its path is not read: the connection closes.
      const upload = await send('PUT', '/api/v1/repos/adm%00in/probe/assets/x.bin', { token: admin, body: 'abc', headers: { 'content-type': 'application/octet-stream' } });
      expectEnvelope(upload, 404, 'not_found');
      expect(upload.headers.get('connection')).toBe('close');
    });

    it('a query parameter PostgreSQL cannot store: 400 naming it', async () => {
      const nulCursor = Buffer.from('a\u0000b').toString('base64url');
      const cases: [string, string][] = [
        ['/api/v1/users?cursor=%00', 'cursor'],
        [`/api/v1/users?cursor=${nulCursor}`, 'cursor'],
        ['/api/v1/users?cursor=not%20base64!', 'cursor'],
        [`/api/v1/repos/${repo}/runs?cursor=${nulCursor}`, 'cursor'],
        [`/api/v1/repos/${repo}/runs?job=build%00`, 'job'],
        [`/api/v1/repos/${repo}/runs?status=%00`, 'status'],
        [`/api/v1/repos/${repo}/assets?cursor=${nulCursor}`, 'cursor'],
        [`/api/v1/repos/${repo}/assets?prefix=%00`, 'prefix'],
        ['/api/v1/admin/tokens?userId=%00', 'userId'],
        ['/api/v1/users?limit=%00', 'limit'],
      ];
      for (const [path, field] of cases) {
        const answer = await send('GET', path, { token: admin });
        expect([path, answer.status, answer.body.error?.field]).toEqual([path, 400, field]);
        expectEnvelope(answer, 400, 'invalid_request', field);
      }
      expect(stack.logs()).not.toMatch(POSTGRES_ENCODING_ERROR);
    });
  });

  describe("the framework's own refusals", () => {
    it('a path parameter over the length limit: 414 uri_too_long, without echoing the URL', async () => {
      const long = 'x'.repeat(500);
      const answer = await send('GET', `/api/v1/repos/admin/${long}`, { token: admin });
      expectEnvelope(answer, 414, 'uri_too_long');
      expect(answer.text).not.toContain(long);
    });

    it('bad percent-encoding: 400 invalid_request', async () => {
      for (const path of ['/api/v1/repos/%zz/probe', '/api/v1/repos/%/probe', '/api/v1/repos/%ED%A0%80/probe', '/api/v1/users/%C0%80']) {
        const answer = await send('GET', path, { token: admin });
        expectEnvelope(answer, 400, 'invalid_request');
        expect(answer.text).not.toContain(path);
      }
    });

    it('an unknown route: 404 not_found', async () => {
      expectEnvelope(await send('GET', '/api/v1/nothing-here'), 404, 'not_found');
      expectEnvelope(await send('PATCH', '/api/v1/auth/login'), 404, 'not_found');
      expectEnvelope(await send('GET', '/%00'), 404, 'not_found');
    });

    it('malformed JSON and an empty body: 400 invalid_request', async () => {
      const json = { 'content-type': 'application/json' };
      for (const body of ['{"username":', '{"username":"admin"', 'nope', '\u0000']) {
        expectEnvelope(await send('POST', '/api/v1/auth/login', { body, headers: json }), 400, 'invalid_request');
      }
      const empty = await send('POST', '/api/v1/repos', { token: admin, body: '', headers: json });
      expectEnvelope(empty, 400, 'invalid_request');
      expect(empty.body.error.message).toBe('request body is required');
    });

    it('refuses __proto__ keys and constructor.prototype with a clear 400 (a plain "constructor" key is data)', async () => {
      const proto = await send('POST', '/api/v1/repos', { token: admin, body: '{"name":"pp","visibility":"private","__proto__":{"admin":true}}', headers: { 'content-type': 'application/json' } });
      expectEnvelope(proto, 400, 'invalid_request', '__proto__');
      expect(proto.body.error.message).toMatch(/__proto__/);
      const nested = await send('PUT', `/api/v1/repos/${repo}/jobs/pp`, { token: admin, body: '{"steps":[{"run":"true"}],"env":{"__proto__":{"x":"y"}}}', headers: { 'content-type': 'application/json' } });
      expectEnvelope(nested, 400, 'invalid_request', 'env.__proto__');
      const ctor = await send('POST', '/api/v1/repos', { token: admin, body: '{"name":"pp","visibility":"private","constructor":{"prototype":{"admin":true}}}', headers: { 'content-type': 'application/json' } });
      expectEnvelope(ctor, 400, 'invalid_request', 'constructor');
      expect(ctor.body.error.message).toMatch(/constructor/);
      const data = await sendJson('PUT', `/api/v1/repos/${repo}/jobs/pp`, admin, { steps: [{ run: 'true' }], env: { constructor: 'x' } });
      expect([data.status, data.body.env]).toEqual([201, { constructor: 'x' }]);
      expect(({} as Record<string, unknown>).admin).toBeUndefined();
    });

    it('header overflow (Node parser) and a malformed request line: envelope with a request id', async () => {
      const overflow = await rawHttp(stack.url, `GET /api/v1/user HTTP/1.1\nHost: x\nX-Big: ${'a'.repeat(20000)}`);
      expect(statusOf(overflow)).toBe(431);
      const body = JSON.parse(overflow.slice(overflow.indexOf('\r\n\r\n') + 4));
      expect(body.error.code).toBe('headers_too_large');
      expect(overflow).toMatch(new RegExp(`x-request-id: ${body.error.requestId}`, 'i'));
      const garbage = await rawHttp(stack.url, 'GET /a b c\u0001 HTTP/1.1\nHost: x');
      expect(statusOf(garbage)).toBe(400);
      expect(JSON.parse(garbage.slice(garbage.indexOf('\r\n\r\n') + 4)).error.code).toBe('invalid_request');
    });
  });
});
