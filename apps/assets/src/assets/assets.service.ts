import { Inject, Injectable } from '@nestjs/common';
import { GantryError, type Asset } from '#contracts';
import { Database, EventStore, type RequestContext } from '#platform';
import { ASSETS_CONFIG, type AssetsConfig } from '../config';
import { queueObjects } from '../garbage/garbage';
import { ObjectStorage, objectKey } from '../storage/object-storage';
import { checkedPath, decodeCursor, encodeCursor, findAsset, likePrefix, loadAssetState, toAsset, type AssetRow } from './asset-records';
import { assetStream, decideDelete } from './assets.decider';

export interface ListAssets {
  repoId: string;
  prefix?: string;
  limit: number;
  cursor?: string;
}

/** Reading and deleting assets (uploads are UploadsService's). */
@Injectable()
export class AssetsService {
  constructor(
    private readonly db: Database,
    private readonly store: EventStore,
    private readonly storage: ObjectStorage,
    @Inject(ASSETS_CONFIG) private readonly config: AssetsConfig,
  ) {}

  /** The asset and a presigned GET of the object it points at now (Range works on it). */
  async authorizeDownload(repoId: string, rawPath: string): Promise<{ asset: Asset; url: string }> {
    const row = await findAsset(this.db, repoId, checkedPath(rawPath));
    if (!row) throw new GantryError('asset_not_found', 'no asset at this path');
    const url = await this.storage.presignedGet(objectKey(repoId, row.upload_id), this.config.GANTRY_ASSET_DOWNLOAD_URL_TTL_SECONDS);
    return { asset: toAsset(row), url };
  }

  /** The record goes now; the object after the garbage delay (a download may be streaming it). */
  async delete(repoId: string, rawPath: string, context: RequestContext): Promise<void> {
    const path = checkedPath(rawPath);
    await this.store.execute(async (tx) => {
      const state = await loadAssetState(tx, repoId, path);
      await this.store.append(tx, assetStream(repoId, path), state.version, decideDelete(state, repoId, path), context);
      await queueObjects(tx, [objectKey(repoId, state.current!.uploadId)], 'deleted', this.config.GANTRY_ASSET_GARBAGE_DELAY_SECONDS);
    });
  }

  /** By path in byte order (COLLATE "C"), after the cursor's path; the cursor is opaque. */
  async list(query: ListAssets): Promise<{ items: Asset[]; nextCursor: string | null }> {
    const after = query.cursor === undefined ? null : decodeCursor(query.cursor);
    const prefix = query.prefix ? likePrefix(query.prefix.normalize('NFC')) : null;
    const { rows } = await this.db.query<AssetRow>(
      `SELECT * FROM assets
        WHERE repo_id = $1 AND ($2::text IS NULL OR path LIKE $2 ESCAPE '\\') AND ($3::text IS NULL OR path > $3)
        ORDER BY path LIMIT $4`,
      [query.repoId, prefix, after, query.limit + 1],
    );
    const items = rows.slice(0, query.limit).map(toAsset);
    const nextCursor = rows.length > query.limit ? encodeCursor(items[items.length - 1].path) : null;
    return { items, nextCursor };
  }
}
