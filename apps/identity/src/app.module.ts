import { Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from 'pino';
import { IdentityRequests } from '#contracts';
import { Idempotency, pingController, ServiceInfraModule } from '#platform';
import { ApiKeysProjection } from './api-keys/api-keys.projection';
import { ApiKeysService } from './api-keys/api-keys.service';
import { CredentialResolver } from './auth/credential-resolver';
import { LeakedCredentialsService } from './auth/leaked-credentials.service';
import { GatewayInvalidator } from './auth/gateway-invalidator';
import { IdentityPresence } from './auth/identity-presence';
import { CiTokensController } from './ci-tokens/ci-tokens.controller';
import { CiTokensProjection } from './ci-tokens/ci-tokens.projection';
import { CiTokensService } from './ci-tokens/ci-tokens.service';
import { RunEndedConsumer } from './ci-tokens/run-ended.consumer';
import { IDENTITY_CONFIG, type IdentityConfig } from './config';
import { IDENTITY_MIGRATIONS } from './migrations';
import { ReposController } from './repos/repos.controller';
import { ReposProjection } from './repos/repos.projection';
import { ReposService } from './repos/repos.service';
import { InstallTokensService } from './runners/install-tokens.service';
import { MachineCredentialsController } from './runners/runners.controller';
import { RunnersProjection } from './runners/runners.projection';
import { RunnersService } from './runners/runners.service';
import { SessionsController } from './sessions/sessions.controller';
import { SessionsProjection } from './sessions/sessions.projection';
import { SessionsService } from './sessions/sessions.service';
import { SigningKeysService } from './sessions/signing-keys.service';
import { PatsController } from './tokens/pats.controller';
import { PatsProjection } from './tokens/pats.projection';
import { PatsService } from './tokens/pats.service';
import { TokenUsageService } from './tokens/token-usage.service';
import { PasswordHasher } from './users/password-hasher';
import { UsersController } from './users/users.controller';
import { UsersProjection } from './users/users.projection';
import { UsersQueries } from './users/users.queries';
import { UsersService } from './users/users.service';

/** Persisted schema name: never rename. */
export const IDENTITY_SCHEMA = 'identity';

/** Projections in the order they apply to each event. */
export const IDENTITY_PROJECTIONS = [UsersProjection, SessionsProjection, PatsProjection, ReposProjection, RunnersProjection, ApiKeysProjection, CiTokensProjection];

@Module({})
export class IdentityModule {
  static forRoot(config: IdentityConfig, logger: Logger): DynamicModule {
    return {
      module: IdentityModule,
      imports: [
        ServiceInfraModule.forRoot({
          service: 'identity', schema: IDENTITY_SCHEMA, config, logger,
          migrations: IDENTITY_MIGRATIONS, projections: IDENTITY_PROJECTIONS,
        }),
      ],
      controllers: [pingController('identity', IdentityRequests.ping), SessionsController, UsersController, PatsController, ReposController, MachineCredentialsController, CiTokensController],
      providers: [
        { provide: IDENTITY_CONFIG, useValue: config },
        PasswordHasher, GatewayInvalidator, IdentityPresence, CredentialResolver,
        UsersQueries, UsersService, SigningKeysService, SessionsService,
        PatsService, TokenUsageService, ReposService,
        InstallTokensService, RunnersService, ApiKeysService, LeakedCredentialsService,
        CiTokensService, RunEndedConsumer, Idempotency,
      ],
    };
  }
}
