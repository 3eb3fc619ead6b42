import { Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from 'pino';
import { AssetsRequests } from '#contracts';
import { pingController, ServiceInfraModule } from '#platform';
import { ASSETS_CONFIG, type AssetsConfig } from './config';
import { Initial1730000000000 } from './migrations/1730000000000-initial';
import { ObjectStorage } from './storage/object-storage';

export const ASSETS_SCHEMA = 'assets';

@Module({})
export class AssetsModule {
  static forRoot(config: AssetsConfig, logger: Logger): DynamicModule {
    return {
      module: AssetsModule,
      imports: [
        ServiceInfraModule.forRoot({ service: 'assets', schema: ASSETS_SCHEMA, config, logger, migrations: [Initial1730000000000], projections: [] }),
      ],
      controllers: [pingController('assets', AssetsRequests.ping, { s3: ObjectStorage })],
      providers: [{ provide: ASSETS_CONFIG, useValue: config }, ObjectStorage],
    };
  }
}
