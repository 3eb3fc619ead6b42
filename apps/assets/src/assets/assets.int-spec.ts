import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { AssetsRequests } from '#contracts';
import { EventStore } from '#platform';
import { s3Client } from '#platform/infra/s3';
import { testInfra, type TestInfra } from '#platform/testing/test-infra';
import { AS_UPLOADER, download, startAssets, upload, UPLOADER, type AssetsHarness } from '../testing/assets-harness';
import { AssetsProjection } from './assets.projection';

describe('assets: delete, list, replay (real PostgreSQL, nats-server and s3rver)', () => {
  let infra: TestInfra;
  let assets: AssetsHarness;
  const repoId = randomUUID();
  const list = (query: { prefix?: string; limit?: number; cursor?: string }, repo = repoId) =>
    assets.rpc.request(AssetsRequests.list, { repoId: repo, limit: query.limit ?? 100, prefix: query.prefix, cursor: query.cursor });
  /** Follows the cursors to the end; returns the pages' paths. */
  const pages = async (query: { prefix?: string; limit: number }) => {
    const seen: string[][] = [];
    let cursor: string | undefined;
    do {
      const page = await list({ ...query, cursor });
      seen.push(page.items.map((item) => item.path));
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    return seen;
  };

  beforeAll(async () => {
    infra = await testInfra();
    assets = await startAssets(infra);
  });
  afterAll(async () => {
    await assets?.stop();
    await infra?.stop();
  });

  it('delete: the record goes at once (asset.deleted by the caller), the object once its delay is over', async () => {
    await upload(assets.rpc, repoId, 'old/app.zip', Buffer.from('zip'));
    const before = await download(assets.rpc, repoId, 'old/app.zip');
    await expect(assets.rpc.request(AssetsRequests.delete, { repoId, path: 'old/app.zip' }, AS_UPLOADER)).resolves.toEqual({});
    await expect(assets.rpc.request(AssetsRequests.authorizeDownload, { repoId, path: 'old/app.zip' })).rejects.toMatchObject({ code: 'asset_not_found' });
    await expect(assets.rpc.request(AssetsRequests.delete, { repoId, path: 'old/app.zip' }, AS_UPLOADER)).rejects.toMatchObject({ code: 'asset_not_found' });
    const { rows } = await assets.db.query(`SELECT type, data, meta FROM events WHERE stream_id = $1 ORDER BY version`, [`asset-${repoId}/old/app.zip`]);
    expect(rows.at(-1)).toMatchObject({ type: 'assets.asset.deleted', data: { repoId, path: 'old/app.zip', reason: 'deleted' }, meta: { actor: UPLOADER } });

    await assets.sweeper.sweep();
    expect((await fetch(before.url)).status).toBe(200); // not due yet: a download may be streaming it
    await assets.db.query(`UPDATE garbage SET due_at = now() WHERE reason = 'deleted'`);
    await assets.sweeper.sweep();
    expect((await fetch(before.url)).status).toBe(404);

    // The path is free again: a new upload starts a new life on the same stream.
    await expect(upload(assets.rpc, repoId, 'old/app.zip', Buffer.from('again'), { ifNoneMatch: true })).resolves.toMatchObject({ replaced: false });
  });

  it('list: byte order, a literal prefix (no LIKE wildcards), opaque cursors across pages', async () => {
    const paths = ['B.txt', 'a/b', 'a/c', 'a_b', 'ab', 'a%', 'é.txt', 'z/ä', 'z/a'];
    for (const path of paths) await upload(assets.rpc, repoId, path, Buffer.from(path));
    await upload(assets.rpc, randomUUID(), 'a/other-repo', Buffer.from('x'));
    const all = (await list({})).items.map((item) => item.path);
    const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
    expect(all).toEqual([...paths, 'old/app.zip'].sort(byteOrder));
    expect((await list({ prefix: 'a_' })).items.map((item) => item.path)).toEqual(['a_b']);
    expect((await list({ prefix: 'a%' })).items.map((item) => item.path)).toEqual(['a%']);
    expect((await list({ prefix: 'a/' })).items.map((item) => item.path)).toEqual(['a/b', 'a/c']);
    expect((await list({ prefix: 'nothing' })).items).toEqual([]);

    expect(await pages({ limit: 3 })).toEqual([all.slice(0, 3), all.slice(3, 6), all.slice(6, 9), all.slice(9)]);
    expect(await pages({ prefix: 'a', limit: 2 })).toEqual([['a%', 'a/b'], ['a/c', 'a_b'], ['ab']]);
    const first = await list({ limit: 1 });
    expect(first.items[0]).toMatchObject({ size: 5, etag: expect.stringMatching(/^"[0-9a-f]{64}"$/), uploadedBy: UPLOADER });
  });

  it('list: a cursor that no page handed out is 400 invalid_request on field cursor', async () => {
    for (const cursor of ['!!!', Buffer.from('../x').toString('base64url'), Buffer.from('a//b').toString('base64url')]) {
      await expect(list({ cursor })).rejects.toMatchObject({ code: 'invalid_request', field: 'cursor' });
    }
  });

  it('replay rebuilds the assets read model equal to the live one', async () => {
    const snapshot = async () => (await assets.db.query('SELECT * FROM assets ORDER BY repo_id, path')).rows;
    const live = await snapshot();
    expect(live.length).toBeGreaterThan(5);
    await assets.db.query(`UPDATE assets SET sha256 = 'corrupt'`);
    await new EventStore(assets.db, [new AssetsProjection()]).replay();
    expect(await snapshot()).toEqual(live);
  });

  it('a live repository is never swept by prefix: an object with no row yet (an upload in flight) stays', async () => {
    await s3Client(infra.s3).putObject(infra.s3.bucket, `${repoId}/stray`, Buffer.from('stray'));
    await assets.sweeper.sweep();
    await expect(s3Client(infra.s3).statObject(infra.s3.bucket, `${repoId}/stray`)).resolves.toMatchObject({ size: 5 });
  });
});
