import { Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from 'pino';
import { CiRequests } from '#contracts';
import { pingController, ServiceInfraModule } from '#platform';
import type { CiConfig } from './config';
import { Initial1730000000000 } from './migrations/1730000000000-initial';

/** Persisted schema name: never rename. */
export const CI_SCHEMA = 'ci';

@Module({})
export class CiModule {
  static forRoot(config: CiConfig, logger: Logger): DynamicModule {
    return {
      module: CiModule,
      imports: [ServiceInfraModule.forRoot({ service: 'ci-runner', schema: CI_SCHEMA, config, logger, migrations: [Initial1730000000000], projections: [] })],
      controllers: [pingController('ci-runner', CiRequests.ping)],
    };
  }
}
