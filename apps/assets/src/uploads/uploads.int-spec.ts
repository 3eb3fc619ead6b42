import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes, randomUUID } from 'node:crypto';
import { AssetsRequests } from '#contracts';
import { s3Client } from '#platform/infra/s3';
import { testInfra, type TestInfra } from '#platform/testing/test-infra';
import { AS_UPLOADER, authorize, download, putBytes, sha256, startAssets, upload, UPLOADER, type AssetsHarness } from '../testing/assets-harness';

describe('uploads (real PostgreSQL, nats-server and s3rver)', () => {
  let infra: TestInfra;
  let assets: AssetsHarness;
  const repoId = randomUUID();
  const objectExists = (key: string) => s3Client(infra.s3).statObject(infra.s3.bucket, key).then(() => true, () => false);
  const keyOf = (uploadId: string) => `${repoId}/${uploadId}`;
  const complete = (uploadId: string, bytes: Uint8Array, size = bytes.length) =>
    assets.rpc.request(AssetsRequests.completeUpload, { uploadId, size, sha256: sha256(bytes) }, AS_UPLOADER);
  const events = async (path: string) =>
    (await assets.db.query<{ type: string; data: Record<string, unknown>; meta: { actor: unknown; requestId: string } }>(
      'SELECT type, data, meta FROM events WHERE stream_id = $1 ORDER BY version', [`asset-${repoId}/${path}`])).rows;

  beforeAll(async () => {
    infra = await testInfra();
    assets = await startAssets(infra, { GANTRY_ASSET_MAX_BYTES: String(1024 * 1024) });
  });
  afterAll(async () => {
    await assets?.stop();
    await infra?.stop();
  });

  it('authorize → PUT to the presigned URL → complete → download: the same bytes, recorded with the uploader', async () => {
    const bytes = randomBytes(200_000);
    const { asset, replaced } = await upload(assets.rpc, repoId, 'dist/app-1.0.tar.gz', bytes, { contentType: 'application/gzip' });
    expect(replaced).toBe(false);
    expect(asset).toEqual({
      path: 'dist/app-1.0.tar.gz', size: 200_000, sha256: sha256(bytes), contentType: 'application/gzip',
      etag: `"${sha256(bytes)}"`, uploadedBy: UPLOADER, uploadedAt: expect.any(String),
    });
    const got = await download(assets.rpc, repoId, 'dist/app-1.0.tar.gz');
    expect(got.asset).toEqual(asset);
    expect(got.bytes.equals(bytes)).toBe(true);
    const [event] = await events('dist/app-1.0.tar.gz');
    expect(event).toMatchObject({ type: 'assets.asset.uploaded', data: { size: 200_000, sha256: sha256(bytes) }, meta: { actor: UPLOADER, requestId: 'req-assets-test' } });
  });

  it('a 0-byte asset', async () => {
    const { asset } = await upload(assets.rpc, repoId, 'empty.txt', new Uint8Array(0), { contentType: 'text/plain' });
    expect(asset).toMatchObject({ size: 0, sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' });
    expect((await download(assets.rpc, repoId, 'empty.txt')).bytes.length).toBe(0);
  });

  it('a size mismatch at completion aborts the upload with 400 invalid_request; its object goes at the next sweep', async () => {
    const short = await authorize(assets.rpc, repoId, 'short.bin', 10);
    await putBytes(short, randomBytes(5));
    await expect(complete(short.uploadId, randomBytes(5), 10)).rejects.toMatchObject({ code: 'invalid_request', field: 'size', message: expect.stringMatching(/stored object has 5 bytes, the upload declared 10/) });
    await expect(complete(short.uploadId, randomBytes(10))).rejects.toMatchObject({ code: 'not_found' });

    const counted = await authorize(assets.rpc, repoId, 'counted.bin', 3);
    await putBytes(counted, randomBytes(3));
    await expect(complete(counted.uploadId, randomBytes(4))).rejects.toMatchObject({ code: 'invalid_request', message: expect.stringMatching(/4 bytes were sent/) });

    const never = await authorize(assets.rpc, repoId, 'never.bin', 3);
    await expect(complete(never.uploadId, randomBytes(3))).rejects.toMatchObject({ code: 'invalid_request', message: expect.stringMatching(/no object was uploaded/) });

    expect(await objectExists(keyOf(short.uploadId))).toBe(true);
    await assets.sweeper.sweep();
    expect(await objectExists(keyOf(short.uploadId))).toBe(false);
    expect(await objectExists(keyOf(counted.uploadId))).toBe(false);
    await expect(assets.rpc.request(AssetsRequests.authorizeDownload, { repoId, path: 'short.bin' })).rejects.toMatchObject({ code: 'asset_not_found' });
  });

  it('too large: 413 too_large at authorization', async () => {
    await expect(authorize(assets.rpc, repoId, 'huge.iso', 1024 * 1024 + 1)).rejects.toMatchObject({ code: 'too_large', field: 'size' });
    await expect(authorize(assets.rpc, repoId, 'fits.iso', 1024 * 1024)).resolves.toMatchObject({ uploadId: expect.any(String) });
  });

  it('If-None-Match: 412 already_exists at authorization, and at completion for the slower of two', async () => {
    await upload(assets.rpc, repoId, 'once.txt', Buffer.from('first'));
    await expect(authorize(assets.rpc, repoId, 'once.txt', 3, { ifNoneMatch: true })).rejects.toMatchObject({ code: 'already_exists' });

    const [a, b] = [await authorize(assets.rpc, repoId, 'race.txt', 1, { ifNoneMatch: true }), await authorize(assets.rpc, repoId, 'race.txt', 1, { ifNoneMatch: true })];
    await Promise.all([putBytes(a, Buffer.from('a')), putBytes(b, Buffer.from('b'))]);
    await complete(a.uploadId, Buffer.from('a'));
    await expect(complete(b.uploadId, Buffer.from('b'))).rejects.toMatchObject({ code: 'already_exists' });
    expect((await download(assets.rpc, repoId, 'race.txt')).bytes.toString()).toBe('a');
    await assets.sweeper.sweep(); // the refused upload was aborted: its object goes
    expect(await objectExists(keyOf(b.uploadId))).toBe(false);
    expect(await objectExists(keyOf(a.uploadId))).toBe(true);
  });

  it('If-Match: only the current ETag replaces (previousSha256 recorded); the old object outlives the replace until due', async () => {
    const v1 = Buffer.from('version 1');
    const first = await upload(assets.rpc, repoId, 'tagged.txt', v1);
    await expect(authorize(assets.rpc, repoId, 'tagged.txt', 1, { ifMatch: '"0000"' })).rejects.toMatchObject({ code: 'precondition_failed' });
    await expect(authorize(assets.rpc, repoId, 'untagged.txt', 1, { ifMatch: first.asset.etag })).rejects.toMatchObject({ code: 'precondition_failed' });
    const before = await download(assets.rpc, repoId, 'tagged.txt');

    const v2 = Buffer.from('version 2!');
    const second = await upload(assets.rpc, repoId, 'tagged.txt', v2, { ifMatch: first.asset.etag });
    expect(second).toMatchObject({ replaced: true, asset: { sha256: sha256(v2), size: v2.length } });
    expect(second.asset.etag).not.toBe(first.asset.etag);
    expect((await events('tagged.txt')).map((e) => [e.type, e.data.previousSha256])).toEqual([['assets.asset.uploaded', undefined], ['assets.asset.replaced', sha256(v1)]]);
    await expect(upload(assets.rpc, repoId, 'tagged.txt', v1, { ifMatch: first.asset.etag })).rejects.toMatchObject({ code: 'precondition_failed' });

    // A download authorized before the replace still reads the old bytes, through the garbage delay.
    await assets.sweeper.sweep();
    expect(Buffer.from(await (await fetch(before.url)).arrayBuffer()).equals(v1)).toBe(true);
    await assets.db.query(`UPDATE garbage SET due_at = now() WHERE reason = 'replaced'`);
    await assets.sweeper.sweep();
    expect((await fetch(before.url)).status).toBe(404);
    expect((await download(assets.rpc, repoId, 'tagged.txt')).bytes.equals(v2)).toBe(true);
  });

  it('concurrent completes to one path: the last wins, and the record always matches the object it points at', async () => {
    for (let round = 0; round < 4; round++) {
      const bodies = Array.from({ length: 4 }, () => randomBytes(1000 + Math.floor(Math.random() * 1000)));
      const grants = await Promise.all(bodies.map((bytes) => authorize(assets.rpc, repoId, 'latest.bin', bytes.length)));
      await Promise.all(grants.map((grant, i) => putBytes(grant, bodies[i])));
      const results = await Promise.all(grants.map((grant, i) => complete(grant.uploadId, bodies[i])));
      const got = await download(assets.rpc, repoId, 'latest.bin');
      expect(sha256(got.bytes)).toBe(got.asset.sha256);
      expect(got.bytes.length).toBe(got.asset.size);
      expect(results.map((r) => r.asset.sha256)).toContain(got.asset.sha256);
      expect(results.filter((r) => !r.replaced).length).toBe(round === 0 ? 1 : 0);
    }
    const history = await events('latest.bin');
    expect(history).toHaveLength(16);
    // Each replace names the content it replaced: the stream is one unbroken chain.
    for (let i = 1; i < history.length; i++) expect(history[i].data.previousSha256).toBe(history[i - 1].data.sha256);
    await assets.db.query(`UPDATE garbage SET due_at = now() WHERE reason = 'replaced'`);
    await assets.sweeper.sweep();
    const listed = await s3Client(infra.s3).listObjectsV2Query(infra.s3.bucket, `${repoId}/`, '', '', 1000, '');
    const current = (await assets.db.query<{ upload_id: string }>(`SELECT upload_id FROM assets WHERE path = 'latest.bin'`)).rows[0].upload_id;
    expect(listed.objects.map((o) => o.name)).toContain(keyOf(current));
    expect((await download(assets.rpc, repoId, 'latest.bin')).asset.sha256).toBe(history.at(-1)!.data.sha256);
  });

  it('abort and expiry leave no record and no object after a sweep; their ids are then unknown (404 not_found)', async () => {
    const aborted = await authorize(assets.rpc, repoId, 'aborted.bin', 4);
    await putBytes(aborted, randomBytes(4));
    await expect(assets.rpc.request(AssetsRequests.abortUpload, { uploadId: aborted.uploadId })).resolves.toEqual({});
    await expect(assets.rpc.request(AssetsRequests.abortUpload, { uploadId: aborted.uploadId })).resolves.toEqual({}); // idempotent

    const expired = await authorize(assets.rpc, repoId, 'expired.bin', 4);
    await putBytes(expired, randomBytes(4));
    await assets.db.query(`UPDATE uploads SET expires_at = now() - interval '1 second' WHERE id = $1`, [expired.uploadId]);
    await expect(complete(expired.uploadId, randomBytes(4))).rejects.toMatchObject({ code: 'not_found' });

    const report = await assets.sweeper.sweep();
    expect(report.expired).toBeGreaterThanOrEqual(1);
    for (const grant of [aborted, expired]) expect(await objectExists(keyOf(grant.uploadId))).toBe(false);
    expect((await assets.db.query('SELECT 1 FROM uploads WHERE id = ANY($1::uuid[])', [[aborted.uploadId, expired.uploadId]])).rowCount).toBe(0);
    await expect(complete(aborted.uploadId, randomBytes(4))).rejects.toMatchObject({ code: 'not_found' });
    await expect(complete(randomUUID(), randomBytes(4))).rejects.toMatchObject({ code: 'not_found' });
    for (const path of ['aborted.bin', 'expired.bin']) await expect(assets.rpc.request(AssetsRequests.authorizeDownload, { repoId, path })).rejects.toMatchObject({ code: 'asset_not_found' });
  });

  it('a completed upload cannot be completed again', async () => {
    const bytes = Buffer.from('twice');
    const grant = await authorize(assets.rpc, repoId, 'twice.txt', bytes.length);
    await putBytes(grant, bytes);
    await complete(grant.uploadId, bytes);
    await expect(complete(grant.uploadId, bytes)).rejects.toMatchObject({ code: 'not_found' });
    await assets.rpc.request(AssetsRequests.abortUpload, { uploadId: grant.uploadId }); // a late abort does not touch the asset
    await assets.sweeper.sweep();
    expect((await download(assets.rpc, repoId, 'twice.txt')).bytes.toString()).toBe('twice');
  });

  it('a bad path is refused before the service (invalid_request, field path)', async () => {
    await expect(authorize(assets.rpc, repoId, '../etc/passwd', 1)).rejects.toMatchObject({ code: 'invalid_request', field: 'path' });
  });

  it('no presigned URL or S3 secret in any log line', () => {
    const text = assets.logs.join('');
    expect(text).toContain('migrations applied'); // the sink does catch the service's lines
    expect(text).not.toContain('X-Amz-Signature');
    expect(text).not.toContain(infra.s3.secretKey === infra.s3.accessKey ? 'X-Amz-Credential' : infra.s3.secretKey);
  });
});
