import { Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from 'pino';
import { AssetsRequests } from '#contracts';
import { Idempotency, pingController, ServiceInfraModule } from '#platform';
import { AssetsController } from './assets/assets.controller';
import { AssetsProjection } from './assets/assets.projection';
import { AssetsService } from './assets/assets.service';
import { ASSETS_CONFIG, type AssetsConfig } from './config';
import { AssetSweeper } from './garbage/asset-sweeper';
import { ASSETS_MIGRATIONS } from './migrations';
import { RepoDeletedConsumer } from './repo-deleted/repo-deleted.consumer';
import { ObjectStorage } from './storage/object-storage';
import { UploadsService } from './uploads/uploads.service';

/** Persisted schema name: never rename. */
export const ASSETS_SCHEMA = 'assets';
/** Projections in the order they apply to each event. */
export const ASSETS_PROJECTIONS = [AssetsProjection];

@Module({})
export class AssetsModule {
  static forRoot(config: AssetsConfig, logger: Logger): DynamicModule {
    return {
      module: AssetsModule,
      imports: [
        ServiceInfraModule.forRoot({ service: 'assets', schema: ASSETS_SCHEMA, config, logger, migrations: ASSETS_MIGRATIONS, projections: ASSETS_PROJECTIONS }),
      ],
      controllers: [pingController('assets', AssetsRequests.ping, { s3: ObjectStorage }), AssetsController],
      providers: [
        { provide: ASSETS_CONFIG, useValue: config },
        ObjectStorage, UploadsService, AssetsService, AssetSweeper, RepoDeletedConsumer, Idempotency,
      ],
    };
  }
}
