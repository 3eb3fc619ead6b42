import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { z } from 'zod';
import { IdentityEvents, type EventEnvelope } from '#contracts';
import { Database, DurableConsumer, EventStore, LOGGER, markConsumed, NATS_CONNECTION, type EventMeta } from '#platform';
import type { AssetRow } from '../assets/asset-records';
import { assetStream, decideRepoDeleted } from '../assets/assets.decider';
import { ASSETS_CONFIG, uploadDeadlineSeconds, type AssetsConfig } from '../config';
import { queuePrefix } from '../garbage/garbage';
import { repoPrefix } from '../storage/object-storage';

/** Durable name: JetStream remembers what assets acked across restarts. Never rename. */
export const REPO_DELETED_CONSUMER = 'assets-repo-deleted';
/** Past it the service starts anyway (logged): a slow catch-up must not keep downloads down. */
const CATCH_UP_TIMEOUT_MS = 20_000;
/** Assets deleted per transaction: a repository with many assets never holds one huge transaction. */
export const REPO_DELETE_BATCH = 200;
/** Margin on the second prefix sweep, for an authorization racing the tombstone's commit. */
const LATE_SWEEP_MARGIN_SECONDS = 60;

const RepoIdSchema = z.uuid();

/**
 * Deleting a repository deletes its assets (`events.identity.repo.deleted`). First, once per event
 * (consumed_events): a tombstone that refuses further uploads, its pending uploads dropped, and its
 * whole prefix queued for removal — now, and again once every upload authorized before the
 * tombstone has ended. Then `asset.deleted {reason: repo_deleted}` for each asset, a batch per
 * transaction; a redelivery (a crash mid-way) picks up what is left. Acked after the last batch.
 */
@Injectable()
export class RepoDeletedConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly consumer: DurableConsumer;

  constructor(
    @Inject(NATS_CONNECTION) nc: NatsConnection,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(ASSETS_CONFIG) private readonly config: AssetsConfig,
    private readonly db: Database,
    private readonly store: EventStore,
  ) {
    this.consumer = new DurableConsumer(nc, { durable: REPO_DELETED_CONSUMER, filterSubject: IdentityEvents.repoDeleted.subject }, logger);
  }

  /** Before the NATS transport serves requests (see identity's RunEndedConsumer): no download of a deleted repository's asset after a restart. */
  async onApplicationBootstrap(): Promise<void> {
    await this.consumer.start((event) => this.handle(event));
    const state = await this.consumer.waitUntilCaughtUp(CATCH_UP_TIMEOUT_MS);
    if (!state.caughtUp) {
      this.logger.error({ pending: state.pending, ackPending: state.ackPending, timeoutMs: CATCH_UP_TIMEOUT_MS }, 'repository deletions not caught up in time: starting anyway');
    }
  }

  /** Before the infrastructure's shutdown hooks drain NATS and close the pool under it. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.consumer.stop();
  }

  async handle(envelope: EventEnvelope): Promise<void> {
    const data = IdentityEvents.repoDeleted.data.safeParse(envelope.data);
    if (envelope.type !== IdentityEvents.repoDeleted.type || !data.success || !RepoIdSchema.safeParse(data.data.repoId).success) {
      // Redelivering cannot fix it; no asset was ever stored under a repository id that is not a UUID.
      this.logger.error({ eventId: envelope.id, type: envelope.type }, 'ignoring a malformed identity.repo.deleted event');
      return;
    }
    const { repoId } = data.data;
    // The deletions are caused by the repository's: its actor and request id go on them.
    const meta: EventMeta = { actor: envelope.actor, requestId: envelope.requestId, ip: null };
    const first = await this.db.transaction(async (tx) => {
      if (!(await markConsumed(tx, REPO_DELETED_CONSUMER, envelope.id))) return false;
      await tx.query('INSERT INTO deleted_repos (repo_id) VALUES ($1) ON CONFLICT DO NOTHING', [repoId]);
      // Waits for a completion holding an upload's row lock: its asset is then seen by the batches.
      await tx.query('DELETE FROM uploads WHERE repo_id = $1', [repoId]);
      await queuePrefix(tx, repoPrefix(repoId), 'repo_deleted', [0, uploadDeadlineSeconds(this.config) + LATE_SWEEP_MARGIN_SECONDS]);
      return true;
    });
    let deleted = 0;
    let batch: number;
    do {
      batch = await this.deleteBatch(repoId, meta);
      deleted += batch;
    } while (batch === REPO_DELETE_BATCH);
    this.logger.info({ repoId, eventId: envelope.id, assets: deleted, redelivered: !first }, 'repository deleted: its assets are deleted');
  }

  /** Up to a batch of the repository's assets, each deleted at the version its row was made at. */
  private async deleteBatch(repoId: string, meta: EventMeta): Promise<number> {
    return this.store.execute(async (tx) => {
      const { rows } = await tx.query<AssetRow>('SELECT * FROM assets WHERE repo_id = $1 ORDER BY path LIMIT $2', [repoId, REPO_DELETE_BATCH]);
      for (const row of rows) {
        const state = { version: row.version, current: { uploadId: row.upload_id, sha256: row.sha256, size: Number(row.size), contentType: row.content_type } };
        await this.store.append(tx, assetStream(repoId, row.path), row.version, decideRepoDeleted(state, repoId, row.path), meta);
      }
      return rows.length;
    });
  }
}
