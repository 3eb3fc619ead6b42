import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { randomUUID } from 'node:crypto';
import { AssetsRequests, EVENTS_STREAM, IdentityEvents, type Actor, type EventEnvelope } from '#contracts';
import { s3Client } from '#platform/infra/s3';
import { testInfra, type TestInfra } from '#platform/testing/test-infra';
import { waitFor } from '#platform/testing/wait-for';
import { AS_UPLOADER, authorize, putBytes, sha256, startAssets, upload, type AssetsHarness } from '../testing/assets-harness';
import { REPO_DELETE_BATCH, REPO_DELETED_CONSUMER } from './repo-deleted.consumer';

const DELETER: Actor = { kind: 'user', id: '0190a0a0-0000-7000-8000-0000000000ad', name: 'admin' };

describe('repository deletion removes its assets (durable consumer; real nats-server, PostgreSQL and s3rver)', () => {
  let infra: TestInfra;
  let assets: AssetsHarness;
  let nc: NatsConnection;

  /** Publishes `identity.repo.deleted` as identity's relay would (Nats-Msg-Id = event id). */
  const publishRepoDeleted = async (repoId: string, options: { id?: string; msgID?: string } = {}) => {
    const id = options.id ?? randomUUID();
    const envelope: EventEnvelope = {
      id, type: IdentityEvents.repoDeleted.type, schemaVersion: 1, stream: `repo-${repoId}`, version: 2, occurredAt: new Date().toISOString(),
      actor: DELETER, subject: { kind: 'repo', id: repoId }, requestId: `req-delete-${repoId}`, ip: '127.0.0.1',
      data: IdentityEvents.repoDeleted.data.parse({ repoId, fullName: `acme/${repoId.slice(0, 8)}` }),
    };
    const ack = await jetstream(nc).publish(IdentityEvents.repoDeleted.subject, JSON.stringify(envelope), { msgID: options.msgID ?? id });
    return { id, seq: ack.seq };
  };
  /** The consumer acks after its last commit: then the deletion is all done. */
  const applied = (seq: number) =>
    waitFor(async () => {
      const info = await (await jetstreamManager(nc)).consumers.info(EVENTS_STREAM.name, REPO_DELETED_CONSUMER);
      return info.ack_floor.stream_seq >= seq && info.num_pending === 0 && info.num_ack_pending === 0;
    }, { timeoutMs: 20_000, message: `repo.deleted #${seq} not applied` });
  const keys = async (repoId: string) => (await s3Client(infra.s3).listObjectsV2Query(infra.s3.bucket, `${repoId}/`, '', '', 1000, '')).objects.map((o) => o.name);
  const deletedEvents = async (repoId: string) =>
    (await assets.db.query<{ data: { reason: string }; meta: { actor: Actor; requestId: string } }>(
      `SELECT data, meta FROM events WHERE type = 'assets.asset.deleted' AND data->>'repoId' = $1`, [repoId])).rows;
  const listed = async (repoId: string) => (await assets.rpc.request(AssetsRequests.list, { repoId, limit: 1000 })).items.map((item) => item.path);

  beforeAll(async () => {
    infra = await testInfra();
    assets = await startAssets(infra);
    nc = await connect({ servers: infra.nats.url, ...infra.nats.admin, name: 'identity-stand-in' });
  });
  afterAll(async () => {
    await assets?.stop();
    await nc?.close();
    await infra?.stop();
  });

  it('deletes every asset (by the deleter), drops pending uploads, refuses new ones and empties the prefix, strays included', async () => {
    const [doomed, kept] = [randomUUID(), randomUUID()];
    for (const path of ['a.txt', 'b/c.txt', 'd.bin']) await upload(assets.rpc, doomed, path, Buffer.from(path));
    await upload(assets.rpc, kept, 'a.txt', Buffer.from('kept'));
    const pending = await authorize(assets.rpc, doomed, 'pending.bin', 7);
    await putBytes(pending, Buffer.from('pending'));
    await s3Client(infra.s3).putObject(infra.s3.bucket, `${doomed}/stray`, Buffer.from('no row knows me'));

    const { id, seq } = await publishRepoDeleted(doomed);
    await applied(seq);
    expect(await listed(doomed)).toEqual([]);
    expect(await listed(kept)).toEqual(['a.txt']);
    const events = await deletedEvents(doomed);
    expect(events).toHaveLength(3);
    for (const event of events) expect(event).toMatchObject({ data: { reason: 'repo_deleted' }, meta: { actor: DELETER, requestId: `req-delete-${doomed}` } });
    await expect(assets.rpc.request(AssetsRequests.completeUpload, { uploadId: pending.uploadId, size: 7, sha256: sha256(Buffer.from('pending')) }, AS_UPLOADER))
      .rejects.toMatchObject({ code: 'not_found' });
    await expect(authorize(assets.rpc, doomed, 'late.bin', 1)).rejects.toMatchObject({ code: 'not_found' });

    expect((await keys(doomed)).length).toBe(5);
    await assets.sweeper.sweep();
    expect(await keys(doomed)).toEqual([]);
    expect(await keys(kept)).toHaveLength(1);
    // The second pass over the prefix waits for uploads authorized before the deletion to end.
    const { rows } = await assets.db.query<{ late: boolean }>(`SELECT due_at > now() + interval '1 hour' AS late FROM garbage WHERE object_key = $1`, [`${doomed}/`]);
    expect(rows).toEqual([{ late: true }]);

    // Redelivered (same event id, past JetStream's dedupe): nothing happens twice.
    const again = await publishRepoDeleted(doomed, { id, msgID: randomUUID() });
    await applied(again.seq);
    expect(await deletedEvents(doomed)).toHaveLength(3);
    expect((await assets.db.query('SELECT 1 FROM garbage WHERE object_key = $1', [`${doomed}/`])).rowCount).toBe(1);
  });

  it('a service that was down catches up before it serves, a batch at a time', async () => {
    const repoId = randomUUID();
    const paths = Array.from({ length: REPO_DELETE_BATCH + 5 }, (_, i) => `many/${String(i).padStart(4, '0')}.txt`);
    for (let i = 0; i < paths.length; i += 10) await Promise.all(paths.slice(i, i + 10).map((path) => upload(assets.rpc, repoId, path, Buffer.from(path))));
    expect(await listed(repoId)).toHaveLength(paths.length);

    await assets.stop();
    const { seq } = await publishRepoDeleted(repoId);
    assets = await startAssets(infra);
    // No waiting here: start resolved only once the consumer had caught up.
    expect(await listed(repoId)).toEqual([]);
    expect(await deletedEvents(repoId)).toHaveLength(paths.length);
    const info = await (await jetstreamManager(nc)).consumers.info(EVENTS_STREAM.name, REPO_DELETED_CONSUMER);
    expect(info.ack_floor.stream_seq).toBeGreaterThanOrEqual(seq);
    await assets.sweeper.sweep();
    expect(await keys(repoId)).toEqual([]);
  });
});
