import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { s3Client } from '../../libs/platform/src/infra/s3';
import { waitFor } from '../../libs/platform/src/testing/wait-for';
import { Api } from '../support/api';
import { Ci } from '../support/ci';
import { startGantry, type GantryStack } from '../support/gantry-stack';
import { rawHttp, statusOf } from '../support/raw-http';

const MiB = 1024 * 1024;
/** A response's JSON body, loosely typed for assertions. */
const json = (response: Response): Promise<any> => response.json();
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('release assets: streamed through the gateway to S3', () => {
  let stack: GantryStack;
  let api: Api;
  let ci: Ci;
  let admin: string;
  let pat: string;
  let repo: { id: string; fullName: string };
  let publicRepo: { id: string; fullName: string };

  const assetUrl = (fullName: string, path: string) => `${stack.url}/api/v1/repos/${fullName}/assets/${path}`;
  const put = (fullName: string, path: string, body: Buffer, token = pat, headers: Record<string, string> = {}) =>
    fetch(assetUrl(fullName, path), { method: 'PUT', body, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream', ...headers } });
  const get = (fullName: string, path: string, headers: Record<string, string> = {}, token: string | null = pat) =>
    fetch(assetUrl(fullName, path), { headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers } });
  const objectsUnder = async (repoId: string) => {
    const client = s3Client(stack.infra.s3);
    const keys: string[] = [];
    for await (const item of client.listObjectsV2(stack.infra.s3.bucket, `${repoId}/`, true)) keys.push((item as { name: string }).name);
    return keys;
  };

  beforeAll(async () => {
    stack = await startGantry({ env: { GANTRY_ASSET_MAX_BYTES: String(150 * MiB), GANTRY_ASSET_SWEEP_MS: '200', GANTRY_ASSET_GARBAGE_DELAY_SECONDS: '1' } });
    api = new Api(stack);
    ci = new Ci(api);
    admin = await api.login(stack.admin.username, stack.admin.password);
    pat = (await api.pat(admin, ['repo:read', 'repo:write', 'assets:write', 'runs:write'])).token;
    repo = await ci.repo(admin, 'releases');
    publicRepo = await ci.repo(admin, 'open-source', 'public');
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('round-trips 0 B, 1 B, 5 MiB + 1 and 100 MiB byte for byte, with their SHA-256', async () => {
    for (const size of [0, 1, 5 * MiB + 1, 100 * MiB]) {
      const bytes = randomBytes(size);
      const path = `sizes/file-${size}.bin`;
      const uploaded = await put(repo.fullName, path, bytes);
      const body = (await json(uploaded)) as any;
      expect([size, uploaded.status]).toEqual([size, 201]);
      expect(body).toMatchObject({ path, size, sha256: sha256(bytes), contentType: 'application/octet-stream', etag: `"${sha256(bytes)}"`, uploadedBy: { kind: 'pat' } });
      const downloaded = await get(repo.fullName, path);
      expect(downloaded.status).toBe(200);
      const back = Buffer.from(await downloaded.arrayBuffer());
      expect([size, back.length, sha256(back)]).toEqual([size, size, sha256(bytes)]);
      expect(downloaded.headers.get('x-checksum-sha256')).toBe(sha256(bytes));
    }
  });

  it('lists by prefix with cursor pagination; replaces (200) and deletes (204, then 404 asset_not_found)', async () => {
    for (const name of ['b.txt', 'a.txt', 'c.txt']) expect((await put(repo.fullName, `list/${name}`, Buffer.from(name), pat, { 'content-type': 'text/plain' })).status).toBe(201);
    const first = await api.get(`/api/v1/repos/${repo.fullName}/assets?prefix=list/&limit=2`, pat);
    const second = await api.get(`/api/v1/repos/${repo.fullName}/assets?prefix=list/&limit=2&cursor=${first.body.nextCursor}`, pat);
    expect([...first.body.items, ...second.body.items].map((a: { path: string }) => a.path)).toEqual(['list/a.txt', 'list/b.txt', 'list/c.txt']);
    expect(second.body.nextCursor).toBeNull();
    const replaced = await put(repo.fullName, 'list/a.txt', Buffer.from('new a'));
    expect([replaced.status, ((await json(replaced)) as any).size]).toEqual([200, 5]);
    expect(await (await get(repo.fullName, 'list/a.txt')).text()).toBe('new a');
    expect((await api.delete(`/api/v1/repos/${repo.fullName}/assets/list/a.txt`, pat)).status).toBe(204);
    const gone = await get(repo.fullName, 'list/a.txt');
    expect([gone.status, (await json(gone)).error.code]).toEqual([404, 'asset_not_found']);
    expect((await api.delete(`/api/v1/repos/${repo.fullName}/assets/list/a.txt`, pat)).status).toBe(404);
  });

  it('Range → 206 with Content-Range, unsatisfiable → 416; If-None-Match → 304; HEAD has the headers', async () => {
    const bytes = Buffer.from('0123456789');
    await put(repo.fullName, 'dir/naïve release.txt', bytes, pat, { 'content-type': 'text/plain' });
    const path = encodeURI('dir/naïve release.txt');
    const partial = await get(repo.fullName, path, { range: 'bytes=2-5' });
    expect([partial.status, partial.headers.get('content-range'), await partial.text()]).toEqual([206, 'bytes 2-5/10', '2345']);
    const suffix = await get(repo.fullName, path, { range: 'bytes=-3' });
    expect([suffix.status, await suffix.text()]).toEqual([206, '789']);
    const outside = await get(repo.fullName, path, { range: 'bytes=10-' });
    expect([outside.status, outside.headers.get('content-range'), (await json(outside)).error.code]).toEqual([416, 'bytes */10', 'range_not_satisfiable']);
    const etag = `"${sha256(bytes)}"`;
    const cached = await get(repo.fullName, path, { 'if-none-match': etag });
    expect([cached.status, await cached.text()]).toEqual([304, '']);
    const head = await fetch(assetUrl(repo.fullName, path), { method: 'HEAD', headers: { authorization: `Bearer ${pat}` } });
    expect(head.status).toBe(200);
    expect(Object.fromEntries(['etag', 'content-length', 'content-type', 'accept-ranges', 'x-checksum-sha256'].map((h) => [h, head.headers.get(h)]))).toEqual({
      etag, 'content-length': '10', 'content-type': 'text/plain', 'accept-ranges': 'bytes', 'x-checksum-sha256': sha256(bytes),
    });
    expect(head.headers.get('content-disposition')).toBe(`attachment; filename="na_ve release.txt"; filename*=UTF-8''na%C3%AFve%20release.txt`);
  });

  it('If-None-Match: * → 412 already_exists; If-Match with a stale ETag → 412; with the current one it replaces', async () => {
    const first = await json(await put(repo.fullName, 'cond/x', Buffer.from('one')));
    const exists = await put(repo.fullName, 'cond/x', Buffer.from('two'), pat, { 'if-none-match': '*' });
    expect([exists.status, (await json(exists)).error.code]).toEqual([412, 'already_exists']);
    const stale = await put(repo.fullName, 'cond/x', Buffer.from('two'), pat, { 'if-match': '"0000"' });
    expect([stale.status, (await json(stale)).error.code]).toEqual([412, 'precondition_failed']);
    const safe = await put(repo.fullName, 'cond/x', Buffer.from('two'), pat, { 'if-match': first.etag });
    expect(safe.status).toBe(200);
    expect((await put(repo.fullName, 'cond/new', Buffer.from('1'), pat, { 'if-none-match': '*' })).status).toBe(201);
  });

  it('refuses every invalid path with 400 invalid_path', async () => {
    // Sent byte for byte: fetch would resolve dot segments (also %2E%2E) before sending.
    const invalid = ['%2E%2E/x', 'a/../b', 'a/%2e/b', 'a//b', 'a/', '%2Fa', 'a%5Cb', 'a\\b', 'a%00b', 'a%01b', 'a%7Fb', 'x'.repeat(1025), '%C3%A9'.repeat(513)];
    for (const path of invalid) {
      const answer = await rawHttp(stack.url, `PUT /api/v1/repos/${repo.fullName}/assets/${path} HTTP/1.1\nHost: x\nAuthorization: Bearer ${pat}\nContent-Length: 1\nConnection: close`, Buffer.from('x'));
      expect([path, statusOf(answer), /"code":"(\w+)"/.exec(answer)?.[1]]).toEqual([path, 400, 'invalid_path']);
    }
    // Percent-encoding that is not UTF-8 is refused by the router before the route (400).
    for (const path of ['a%C3', 'a%ED%A0%80b']) {
      const answer = await rawHttp(stack.url, `PUT /api/v1/repos/${repo.fullName}/assets/${path} HTTP/1.1\nHost: x\nAuthorization: Bearer ${pat}\nContent-Length: 1\nConnection: close`, Buffer.from('x'));
      expect([path, statusOf(answer)]).toEqual([path, 400]);
    }
    // NFD in, NFC stored: the same asset either way.
    expect((await put(repo.fullName, 'e\u0301.txt', Buffer.from('nfd'))).status).toBe(201);
    expect(await (await get(repo.fullName, encodeURI('\u00e9.txt'))).text()).toBe('nfd');
  });

  it('413 too_large before a byte is streamed, 411 without Content-Length', async () => {
    const url = new URL(assetUrl(repo.fullName, 'big.bin'));
    const tooLarge = await rawHttp(url.href, `PUT ${url.pathname} HTTP/1.1\nHost: x\nAuthorization: Bearer ${pat}\nContent-Length: ${150 * MiB + 1}`);
    expect(statusOf(tooLarge)).toBe(413);
    expect(tooLarge).toContain('"too_large"');
    const chunked = await fetch(url, { method: 'PUT', headers: { authorization: `Bearer ${pat}` }, body: new Blob(['abc']).stream(), duplex: 'half' } as RequestInit);
    expect([chunked.status, (await json(chunked)).error.code]).toEqual([411, 'length_required']);
  });

  it('an upload cut short leaves no asset and no object', async () => {
    const url = new URL(assetUrl(repo.fullName, 'cut/short.bin'));
    const before = await objectsUnder(repo.id);
    await rawHttp(url.href, `PUT ${url.pathname} HTTP/1.1\nHost: x\nAuthorization: Bearer ${pat}\nContent-Length: ${10 * MiB}`, randomBytes(MiB), { closeAfterBody: true });
    const missing = await get(repo.fullName, 'cut/short.bin');
    expect(missing.status).toBe(404);
    await waitFor(async () => (await objectsUnder(repo.id)).length === before.length, { timeoutMs: 10000, message: 'the cut upload left an object' });
    expect((await objectsUnder(repo.id)).sort()).toEqual(before.sort());
  });

  it('two concurrent uploads to one path: one consistent winner', async () => {
    const bodies = [randomBytes(3 * MiB), randomBytes(3 * MiB)];
    const results = await Promise.all(bodies.map((bytes) => put(repo.fullName, 'race/x.bin', bytes)));
    expect(results.map((r) => r.status).sort()).toEqual([200, 201]);
    const head = await fetch(assetUrl(repo.fullName, 'race/x.bin'), { method: 'HEAD', headers: { authorization: `Bearer ${pat}` } });
    const served = Buffer.from(await (await get(repo.fullName, 'race/x.bin')).arrayBuffer());
    expect(head.headers.get('x-checksum-sha256')).toBe(sha256(served));
    expect(bodies.map(sha256)).toContain(sha256(served));
  });

  it('who may: anonymous reads public assets only; a bad credential is 401; a repo:read key cannot upload', async () => {
    await put(publicRepo.fullName, 'pub.txt', Buffer.from('public'));
    await put(repo.fullName, 'secret.txt', Buffer.from('private'));
    const anonymous = await get(publicRepo.fullName, 'pub.txt', {}, null);
    expect([anonymous.status, await anonymous.text()]).toEqual([200, 'public']);
    expect((await api.get(`/api/v1/repos/${publicRepo.fullName}/assets`)).status).toBe(200);
    expect((await get(repo.fullName, 'secret.txt', {}, null)).status).toBe(404);
    expect((await api.get(`/api/v1/repos/${repo.fullName}/assets`)).status).toBe(404);
    expect((await get(publicRepo.fullName, 'pub.txt', {}, 'gtp_notavalidtoken')).status).toBe(401);
    expect((await fetch(assetUrl(publicRepo.fullName, 'anon.txt'), { method: 'PUT', body: 'x' })).status).toBe(401);
    const reader = (await api.post(`/api/v1/repos/${repo.fullName}/keys`, admin, { name: 'ro', scopes: ['repo:read'] })).body.key as string;
    expect((await get(repo.fullName, 'secret.txt', {}, reader)).status).toBe(200);
    const refused = await put(repo.fullName, 'by-key.txt', Buffer.from('x'), reader);
    expect([refused.status, (await json(refused)).error.code]).toEqual([403, 'forbidden']);
    const writer = (await api.post(`/api/v1/repos/${repo.fullName}/keys`, admin, { name: 'rw', scopes: ['repo:read', 'assets:write'] })).body.key as string;
    expect((await put(repo.fullName, 'by-key.txt', Buffer.from('x'), writer)).status).toBe(201);
    expect((await put(publicRepo.fullName, 'by-key.txt', Buffer.from('x'), writer)).status).toBe(403);
  });

  it('repeated downloads ask identity once (the grant cache), not per request', async () => {
    await put(repo.fullName, 'hot.txt', Buffer.from('hot'));
    const nc = await connect({ servers: stack.infra.nats.url, ...stack.infra.nats.admin });
    try {
      let asked = 0;
      const counter = nc.subscribe('identity.repo.access.v1', { callback: () => void asked++ });
      await nc.flush();
      for (let i = 0; i < 20; i++) expect((await get(repo.fullName, 'hot.txt')).status).toBe(200);
      await nc.flush();
      counter.unsubscribe();
      expect(asked).toBeLessThanOrEqual(1);
    } finally {
      await nc.close();
    }
  });

  it('a member removed from the repository is refused at once (the grant cache is invalidated)', async () => {
    const member = await api.user(admin, 'asset-member');
    await api.put(`/api/v1/repos/${repo.fullName}/members/asset-member`, admin, { role: 'read' });
    expect((await get(repo.fullName, 'secret.txt', {}, member.session)).status).toBe(200); // cached now
    await api.delete(`/api/v1/repos/${repo.fullName}/members/asset-member`, admin);
    expect((await get(repo.fullName, 'secret.txt', {}, member.session)).status).toBe(404);
  });

  it('a CI job uploads with curl and its token; the token dies with the run; it cannot write elsewhere', async () => {
    const tokenFile = join(mkdtempSync(join(tmpdir(), 'gantry-assets-ci-')), 'token');
    await ci.job(admin, repo.fullName, 'publish', {
      steps: [{
        run: [
          'head -c 300000 /dev/urandom > artifact.bin',
          'sha256sum artifact.bin | cut -d" " -f1 > artifact.sha',
          'curl -sf -T artifact.bin -H "Authorization: Bearer $GANTRY_TOKEN" "$GANTRY_URL/api/v1/repos/$GANTRY_REPO/assets/ci/artifact.bin" -o /dev/null',
          `curl -s -o /dev/null -w "other=%{http_code}\\n" -T artifact.bin -H "Authorization: Bearer $GANTRY_TOKEN" "$GANTRY_URL/api/v1/repos/${publicRepo.fullName}/assets/ci/artifact.bin"`,
          'echo "sha=$(cat artifact.sha)"',
          `echo "$GANTRY_TOKEN" > ${tokenFile}`,
        ].join('\n'),
      }],
    });
    const run = await ci.trigger(admin, repo.fullName, 'publish');
    expect(await ci.until(admin, run.id)).toMatchObject({ status: 'succeeded' });
    const log = await ci.log(admin, run.id);
    expect(log).toContain('other=403');
    const expected = /sha=([0-9a-f]{64})/.exec(log)![1];
    const downloaded = Buffer.from(await (await get(repo.fullName, 'ci/artifact.bin')).arrayBuffer());
    expect([downloaded.length, sha256(downloaded)]).toEqual([300000, expected]);
    const listed = (await api.get(`/api/v1/repos/${repo.fullName}/assets?prefix=ci/`, pat)).body.items[0];
    expect(listed.uploadedBy).toMatchObject({ kind: 'ci_job' });
    const token = readFileSync(tokenFile, 'utf8').trim();
    await waitFor(async () => (await put(repo.fullName, 'ci/late.bin', Buffer.from('x'), token)).status === 401, { message: 'the run token still uploads after the run' });
  });

  // Last: it deletes the repository.
  it('deleting the repository deletes its assets and their objects', async () => {
    const doomed = await ci.repo(admin, 'doomed');
    for (const name of ['a', 'b', 'c']) await put(doomed.fullName, `f/${name}`, randomBytes(1000));
    expect(await objectsUnder(doomed.id)).toHaveLength(3);
    expect((await api.delete(`/api/v1/repos/${doomed.fullName}`, admin)).status).toBe(204);
    await waitFor(async () => (await objectsUnder(doomed.id)).length === 0, { timeoutMs: 15000, message: 'objects of the deleted repository are still there' });
  });
});
