import { AuditReader } from './audit/audit-reader';
import { AuditController } from './audit/audit.controller';
import { Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { connectNats, LOGGER, NATS_CONNECTION, natsAuth, RpcClient } from '#platform';
import { AuthCache } from './auth/auth-cache';
import { AuthFreshness } from './auth/auth-freshness';
import { AuthGuard } from './auth/auth.guard';
import { Authenticator } from './auth/authenticator';
import { CredentialLookup } from './auth/credential-lookup';
import { InvalidationListener } from './auth/invalidation-listener';
import { RepoAccess } from './auth/repo-access';
import { SessionVerifier } from './auth/session-verifier';
import { UsageRecorder } from './auth/usage-recorder';
import { GATEWAY_CONFIG, type GatewayConfig } from './config';
import { HealthController } from './health/health.controller';
import { CliController } from './cli/cli.controller';
import { ErrorEnvelopeFilter } from './http/error.filter';
import { HttpMetrics } from './http/metrics';
import { MetricsListener } from './http/metrics-listener';
import { CredentialsController } from './credentials/credentials.controller';
import { AssetsController } from './assets/assets.controller';
import { ClaimWaiter } from './ci/claim-waiter';
import { JobsController } from './ci/jobs.controller';
import { RunLiveHub } from './ci/run-live-hub';
import { RunnerRunsController } from './ci/runner-runs.controller';
import { RunsController } from './ci/runs.controller';
import { RunLocator } from './auth/run-locator';
import { RateLimits } from './http/rate-limits.service';
import { ReposController } from './repos/repos.controller';
import { InstallTokensController } from './runners/install-tokens.controller';
import { RunnerApiController, RunnersController } from './runners/runners.controller';
import { AuthController } from './sessions/auth.controller';
import { AdminTokensController } from './user/admin-tokens.controller';
import { UserController } from './user/user.controller';
import { UsersController } from './user/users.controller';
import { SecurityEvents } from './security/security-events';
import { ConsoleAuthController } from './console/console-auth.controller';
import { ConsolePagesController } from './console/console-pages.controller';
import { LocalStrategy } from './console/local.strategy';
import { WebFiles } from './console/web-files';

class NatsLifecycle implements OnApplicationShutdown {
  constructor(@Inject(NATS_CONNECTION) private readonly nc: NatsConnection) {}
  async onApplicationShutdown(): Promise<void> {
    await this.nc.drain().catch(() => undefined);
  }
}

@Module({})
export class GatewayModule {
  static forRoot(config: GatewayConfig, logger: Logger): DynamicModule {
    return {
      module: GatewayModule,
      controllers: [
        HealthController, AuthController, UserController, UsersController, AdminTokensController, ReposController,
        InstallTokensController, RunnersController, RunnerApiController, CredentialsController,
        JobsController, RunsController, RunnerRunsController, AssetsController, AuditController, CliController,
        ConsoleAuthController, ConsolePagesController,
      ],
      providers: [
        { provide: GATEWAY_CONFIG, useValue: config },
        { provide: LOGGER, useValue: logger },
        { provide: NATS_CONNECTION, useFactory: () => connectNats({ url: config.GANTRY_NATS_URL, name: `gateway-${process.pid}`, auth: natsAuth(config) }) },
        { provide: RpcClient, useFactory: (nc: NatsConnection) => new RpcClient(nc, config.GANTRY_NATS_REQUEST_TIMEOUT_MS), inject: [NATS_CONNECTION] },
        { provide: AuthCache, useValue: new AuthCache({ max: config.GANTRY_AUTH_CACHE_MAX, ttlMs: config.GANTRY_AUTH_CACHE_TTL_MS }) },
        NatsLifecycle,
        HttpMetrics,
        MetricsListener,
        RateLimits,
        SessionVerifier,
        UsageRecorder,
        InvalidationListener,
        AuthFreshness,
        CredentialLookup,
        Authenticator,
        RepoAccess,
        RunLocator,
        RunLiveHub,
        ClaimWaiter,
        {
          provide: SecurityEvents,
          useFactory: (nc: NatsConnection, listener: InvalidationListener, metrics: HttpMetrics) =>
            new SecurityEvents(jetstream(nc), {
              gatewayId: listener.gatewayId,
              intervalMs: config.GANTRY_SECURITY_EVENT_INTERVAL_MS,
              maxKeys: config.GANTRY_SECURITY_EVENT_MAX_KEYS,
              queueMax: config.GANTRY_SECURITY_EVENT_QUEUE_MAX,
              publishTimeoutMs: Math.min(2000, config.GANTRY_NATS_REQUEST_TIMEOUT_MS),
            }, logger, metrics.registry),
          inject: [NATS_CONNECTION, InvalidationListener, HttpMetrics],
        },
        AuditReader,
        LocalStrategy,
        { provide: WebFiles, useFactory: () => new WebFiles() },
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_FILTER, useClass: ErrorEnvelopeFilter },
      ],
    };
  }
}
