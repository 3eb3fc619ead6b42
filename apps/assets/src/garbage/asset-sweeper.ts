import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from 'pino';
import { Database, LOGGER, type Tx } from '#platform';
import { ASSETS_CONFIG, type AssetsConfig } from '../config';
import { ObjectStorage, S3_BATCH } from '../storage/object-storage';

interface GarbageRow {
  id: string;
  object_key: string;
  is_prefix: boolean;
}

export interface SweepReport {
  /** Uploads abandoned past their deadline (their objects queued for removal). */
  expired: number;
  /** Garbage rows done with (objects removed, or prefixes emptied). */
  removed: number;
}

/** Pages of one prefix a pass lists and empties before it moves on (the row stays due). */
const PREFIX_PAGES_PER_PASS = 20;

/**
 * Removes from S3 what nothing points at any more: objects of abandoned uploads, replaced or
 * deleted assets once their delay is over, and deleted repositories' prefixes. Every replica
 * sweeps: rows are taken with FOR UPDATE SKIP LOCKED, so two sweepers never work on one row, and a
 * row is deleted only in the transaction that saw S3 remove its object (a crash in between means
 * removing it again, which S3 answers like the first time).
 */
@Injectable()
export class AssetSweeper implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private timer: NodeJS.Timeout | null = null;
  private sweeping: Promise<void> | null = null;

  constructor(
    private readonly db: Database,
    private readonly storage: ObjectStorage,
    @Inject(ASSETS_CONFIG) private readonly config: AssetsConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      this.sweeping ??= this.sweep()
        .then((report) => {
          if (report.expired + report.removed > 0) this.logger.info(report, 'asset sweeper pass');
        }, (error: unknown) => this.logger.warn({ err: String(error) }, 'asset sweeper pass failed'))
        .finally(() => (this.sweeping = null));
    }, this.config.GANTRY_ASSET_SWEEP_MS);
  }

  /** Before the infrastructure closes the pool under a pass in progress. */
  async beforeApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.sweeping;
  }

  /** One full pass (tests call it directly). */
  async sweep(): Promise<SweepReport> {
    const report = { expired: 0, removed: 0 };
    let expired: number;
    do {
      expired = await this.expireUploads();
      report.expired += expired;
    } while (expired === S3_BATCH);
    let pass: { taken: number; removed: number };
    do {
      pass = await this.collect();
      report.removed += pass.removed;
    } while (pass.taken === S3_BATCH);
    return report;
  }

  /** Abandoned uploads: the row goes, its object (if the PUT ever happened) is garbage due now. */
  private async expireUploads(): Promise<number> {
    const { rowCount } = await this.db.query(
      `WITH expired AS (
         DELETE FROM uploads WHERE id IN (SELECT id FROM uploads WHERE expires_at <= now() ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED)
         RETURNING repo_id, id)
       INSERT INTO garbage (object_key, reason, due_at) SELECT repo_id || '/' || id, 'expired', now() FROM expired`,
      [S3_BATCH],
    );
    return rowCount ?? 0;
  }

  /** Takes up to a batch of due rows, removes their objects, deletes the rows done with. */
  private async collect(): Promise<{ taken: number; removed: number }> {
    return this.db.transaction(async (tx) => {
      const { rows } = await tx.query<GarbageRow>(
        'SELECT id, object_key, is_prefix FROM garbage WHERE due_at <= now() ORDER BY due_at, id LIMIT $1 FOR UPDATE SKIP LOCKED',
        [S3_BATCH],
      );
      const done: string[] = [];
      const failed: string[] = [];
      const objects = rows.filter((row) => !row.is_prefix);
      const result = await this.storage.removeMany([...new Set(objects.map((row) => row.object_key))]);
      const refused = new Set(result.failed.map((failure) => failure.key));
      for (const row of objects) (refused.has(row.object_key) ? failed : done).push(row.id);
      if (result.failed.length > 0) this.logger.warn({ failed: result.failed.slice(0, 5), count: result.failed.length }, 'S3 refused to remove objects: retrying later');
      for (const row of rows.filter((candidate) => candidate.is_prefix)) {
        const outcome = await this.emptyPrefix(row.object_key);
        if (outcome === 'done') done.push(row.id);
        else if (outcome === 'failed') failed.push(row.id);
      }
      await this.settle(tx, done, failed);
      return { taken: rows.length, removed: done.length };
    });
  }

  /** Lists and removes a page at a time: objects no row knows about (a lost abort) go too. */
  private async emptyPrefix(prefix: string): Promise<'done' | 'failed' | 'more'> {
    for (let page = 0; page < PREFIX_PAGES_PER_PASS; page++) {
      const { keys, more } = await this.storage.listKeys(prefix);
      const result = await this.storage.removeMany(keys);
      if (result.failed.length > 0) {
        this.logger.warn({ prefix, failed: result.failed.slice(0, 5), count: result.failed.length }, 'S3 refused to remove objects under a prefix: retrying later');
        return 'failed';
      }
      if (!more) return 'done';
    }
    return 'more';
  }

  /** Done rows go; failed ones back off (10 s, 20 s, … up to an hour). */
  private async settle(tx: Tx, done: string[], failed: string[]): Promise<void> {
    if (done.length > 0) await tx.query('DELETE FROM garbage WHERE id = ANY($1::bigint[])', [done]);
    if (failed.length > 0) {
      await tx.query(
        `UPDATE garbage SET attempts = attempts + 1, due_at = now() + least(3600, 10 * 2 ^ attempts) * interval '1 second' WHERE id = ANY($1::bigint[])`,
        [failed],
      );
    }
  }
}
