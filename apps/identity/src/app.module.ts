import { Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from 'pino';
import { IdentityRequests } from '#contracts';
import { pingController, ServiceInfraModule } from '#platform';
import { IDENTITY_CONFIG, type IdentityConfig } from './config';
import { IDENTITY_MIGRATIONS } from './migrations';
import { SessionsController } from './sessions/sessions.controller';
import { SessionsService } from './sessions/sessions.service';
import { SigningKeysService } from './sessions/signing-keys.service';
import { PasswordHasher } from './users/password-hasher';
import { UsersProjection } from './users/users.projection';
import { UsersService } from './users/users.service';

export const IDENTITY_SCHEMA = 'identity';

@Module({})
export class IdentityModule {
  static forRoot(config: IdentityConfig, logger: Logger): DynamicModule {
    return {
      module: IdentityModule,
      imports: [
        ServiceInfraModule.forRoot({
          service: 'identity', schema: IDENTITY_SCHEMA, config, logger,
          migrations: IDENTITY_MIGRATIONS, projections: [UsersProjection],
        }),
      ],
      controllers: [pingController('identity', IdentityRequests.ping), SessionsController],
      providers: [{ provide: IDENTITY_CONFIG, useValue: config }, PasswordHasher, UsersService, SigningKeysService, SessionsService],
    };
  }
}
