import { Inject, Injectable } from '@nestjs/common';
import { v7 as uuidv7 } from 'uuid';
import { AssetsRequests, GantryError, type Asset } from '#contracts';
import { Database, EventStore, Idempotency, type RequestContext, type StoredEvent, type Tx } from '#platform';
import { ASSETS_CONFIG, uploadDeadlineSeconds, type AssetsConfig } from '../config';
import { checkedPath, loadAssetState } from '../assets/asset-records';
import { assetStream, decideAuthorize, decideComplete, etagOf, type PendingUpload } from '../assets/assets.decider';
import { queueObjects } from '../garbage/garbage';
import { ObjectStorage, objectKey } from '../storage/object-storage';

export interface AuthorizeUpload {
  repoId: string;
  path: string;
  size: number;
  contentType: string;
  ifNoneMatch: boolean;
  ifMatch: string | null;
}

interface UploadRow {
  id: string;
  repo_id: string;
  path: string;
  /** bigint: a string from node-postgres. */
  size: string;
  content_type: string;
  if_none_match: boolean;
  if_match: string | null;
}

const NO_UPLOAD = 'no such upload (unknown, expired, completed or aborted)';

/**
 * Uploads in three steps (GitLab Workhorse's direct upload): authorize hands the gateway a
 * presigned PUT for a new object of the upload's own, `<repoId>/<uploadId>`; the gateway streams
 * the body there; complete checks the object and records the asset as pointing at it. One
 * immutable object per upload means nothing a client can see changes until completion, a client
 * that disconnects mid-upload leaves no record, and replacing an asset is moving its pointer in
 * one transaction: the record's size and sha256 are always those of the object it points at, and
 * the old object stays for downloads already streaming it until the sweeper removes it.
 */
@Injectable()
export class UploadsService {
  constructor(
    private readonly db: Database,
    private readonly store: EventStore,
    private readonly storage: ObjectStorage,
    private readonly idempotency: Idempotency,
    @Inject(ASSETS_CONFIG) private readonly config: AssetsConfig,
  ) {}

  async authorize(request: AuthorizeUpload, context: RequestContext): Promise<{ uploadId: string; url: string; expiresAt: string }> {
    const path = checkedPath(request.path);
    await this.refuseDeletedRepo(this.db, request.repoId);
    // A retry under an Idempotency-Key that already completed gets the first response at
    // completion; its preconditions were met then, and would now fail (If-None-Match: *).
    const retried = await this.idempotency.seen(this.db, context);
    const preconditions = retried ? { ifNoneMatch: false, ifMatch: null } : {};
    decideAuthorize(await loadAssetState(this.db, request.repoId, path), { ...request, ...preconditions, maxBytes: this.config.GANTRY_ASSET_MAX_BYTES });
    const uploadId = uuidv7();
    const { rows } = await this.db.query<{ url_expires_at: Date }>(
      `INSERT INTO uploads (id, repo_id, path, size, content_type, if_none_match, if_match, url_expires_at, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, now() + $8 * interval '1 second', now() + $9 * interval '1 second') RETURNING url_expires_at`,
      [uploadId, request.repoId, path, request.size, request.contentType, request.ifNoneMatch, request.ifMatch,
        this.config.GANTRY_ASSET_UPLOAD_URL_TTL_SECONDS, uploadDeadlineSeconds(this.config)],
    );
    const url = await this.storage.presignedPut(objectKey(request.repoId, uploadId), this.config.GANTRY_ASSET_UPLOAD_URL_TTL_SECONDS);
    return { uploadId, url, expiresAt: rows[0].url_expires_at.toISOString() };
  }

  /**
   * The object must be there with exactly the declared size (also the size the gateway counted):
   * otherwise the upload is aborted and the answer is 400 invalid_request saying why. Then the
   * preconditions are checked again on the stream as it is now: with concurrent uploads to one
   * path the last to complete wins, and one that asked for If-None-Match gets 412.
   *
   * Under an Idempotency-Key (the fingerprint then includes the SHA-256 of the bytes) a retry of an
   * upload that completed gets the first response, and its own upload is forgotten.
   */
  async complete(uploadId: string, size: number, sha256: string, context: RequestContext): Promise<{ asset: Asset; replaced: boolean }> {
    const found = await this.find(this.db, uploadId, false);
    if (!found) throw new GantryError('not_found', NO_UPLOAD);
    const upload = toPending(found);
    const stat = await this.storage.stat(objectKey(upload.repoId, uploadId));
    const problem = stat === null ? 'no object was uploaded'
      : stat.size !== upload.size ? `size: the stored object has ${stat.size} bytes, the upload declared ${upload.size}`
        : size !== upload.size ? `size: ${size} bytes were sent, the upload declared ${upload.size}` : null;
    if (problem !== null) {
      await this.abort(uploadId, 'rejected');
      throw new GantryError('invalid_request', `${problem}: the upload is aborted`, stat === null ? undefined : 'size');
    }
    const outcome = await this.store.execute(async (tx) => {
      if (!(await this.find(tx, uploadId, true))) throw new GantryError('not_found', NO_UPLOAD);
      await this.refuseDeletedRepo(tx, upload.repoId);
      let recorded = false;
      const result = await this.idempotency.once(tx, context, { secret: false, response: AssetsRequests.completeUpload.response, alsoFingerprint: sha256, remember: (r) => !('refused' in r) }, async () => {
        const state = await loadAssetState(tx, upload.repoId, upload.path);
        let events;
        try {
          events = decideComplete(state, upload, sha256);
        } catch (error) {
          if (!(error instanceof GantryError)) throw error;
          // A precondition that failed now fails for good: abort in this transaction, refuse after it.
          await this.forget(tx, uploadId, 'rejected');
          return { refused: error };
        }
        const [stored] = await this.store.append(tx, assetStream(upload.repoId, upload.path), state.version, events, context);
        await tx.query('DELETE FROM uploads WHERE id = $1', [uploadId]);
        const previous = state.current;
        if (previous) await queueObjects(tx, [objectKey(upload.repoId, previous.uploadId)], 'replaced', this.config.GANTRY_ASSET_GARBAGE_DELAY_SECONDS);
        recorded = true;
        // From our own event, not the read model: another upload may have replaced it since the commit.
        return { asset: assetOf(upload, sha256, stored), replaced: previous !== null };
      });
      // A retry answered with the first response: this upload's own object is not needed.
      if (!recorded && !('refused' in result)) await this.forget(tx, uploadId, 'aborted');
      return result;
    }).catch(async (error: unknown) => {
      // Refused by its Idempotency-Key (another request, another credential): forget this upload now.
      if (error instanceof GantryError && error.code.startsWith('idempotency_key_')) await this.abort(uploadId).catch(() => undefined);
      throw error;
    });
    if ('refused' in outcome) throw outcome.refused;
    return outcome;
  }

  /** Forgets the upload; its object, if the PUT got that far, is removed by the next sweep. */
  async abort(uploadId: string, reason: 'aborted' | 'rejected' = 'aborted'): Promise<void> {
    await this.db.transaction((tx) => this.forget(tx, uploadId, reason));
  }

  /** Only the transaction that deletes the row queues its object: a completed upload has no row. */
  private async forget(tx: Tx, uploadId: string, reason: 'aborted' | 'rejected'): Promise<void> {
    const { rows } = await tx.query<{ repo_id: string }>('DELETE FROM uploads WHERE id = $1 RETURNING repo_id', [uploadId]);
    if (rows[0]) await queueObjects(tx, [objectKey(rows[0].repo_id, uploadId)], reason, 0);
  }

  private async find(tx: Tx, uploadId: string, lock: boolean): Promise<UploadRow | null> {
    const { rows } = await tx.query<UploadRow>(`SELECT * FROM uploads WHERE id = $1 AND expires_at > now()${lock ? ' FOR UPDATE' : ''}`, [uploadId]);
    return rows[0] ?? null;
  }

  /** Identity deleted the repository: nothing more is stored for it (see RepoDeletedConsumer). */
  private async refuseDeletedRepo(tx: Tx, repoId: string): Promise<void> {
    const { rowCount } = await tx.query('SELECT 1 FROM deleted_repos WHERE repo_id = $1', [repoId]);
    if (rowCount) throw new GantryError('not_found', 'the repository was deleted');
  }
}

function toPending(row: UploadRow): PendingUpload {
  return {
    uploadId: row.id, repoId: row.repo_id, path: row.path, size: Number(row.size), contentType: row.content_type,
    ifNoneMatch: row.if_none_match, ifMatch: row.if_match,
  };
}

function assetOf(upload: PendingUpload, sha256: string, event: StoredEvent): Asset {
  return {
    path: upload.path, size: upload.size, sha256, contentType: upload.contentType, etag: etagOf(sha256),
    uploadedBy: event.meta.actor, uploadedAt: event.occurredAt,
  };
}
