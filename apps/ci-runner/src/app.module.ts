import { Module, type DynamicModule } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { CiRequests } from '#contracts';
import { Idempotency, NATS_CONNECTION, pingController, RpcClient, ServiceInfraModule } from '#platform';
import { CI_CONFIG, type CiConfig } from './config';
import { LocalExecutor } from './executor/local-executor';
import { JobsController } from './jobs/jobs.controller';
import { JobsProjection } from './jobs/jobs.projection';
import { JobsService } from './jobs/jobs.service';
import type { JobsFileEntry } from './jobs-file/jobs-file';
import { JOBS_FILE_ENTRIES, JobsFileLoader } from './jobs-file/jobs-file.loader';
import { RunLivePublisher } from './live/run-live';
import { RunLogStore } from './logs/run-log.store';
import { CI_MIGRATIONS } from './migrations';
import { RunnerApiController } from './runner-api/runner-api.controller';
import { RunnerApiService } from './runner-api/runner-api.service';
import { RunClaims } from './runs/run-claims';
import { RunSweeper } from './runs/run-sweeper';
import { RunsController } from './runs/runs.controller';
import { RunsProjection } from './runs/runs.projection';
import { RunsService } from './runs/runs.service';
import { LOCAL_EXECUTOR, LocalWorker } from './worker/local-worker';

/** Persisted schema name: never rename. */
export const CI_SCHEMA = 'ci';
/** Projections in the order they apply to each event. */
export const CI_PROJECTIONS = [JobsProjection, RunsProjection];

@Module({})
export class CiModule {
  static forRoot(config: CiConfig, logger: Logger, jobsFile: JobsFileEntry[] = []): DynamicModule {
    return {
      module: CiModule,
      imports: [ServiceInfraModule.forRoot({ service: 'ci-runner', schema: CI_SCHEMA, config, logger, migrations: CI_MIGRATIONS, projections: CI_PROJECTIONS })],
      controllers: [pingController('ci-runner', CiRequests.ping), JobsController, RunsController, RunnerApiController],
      providers: [
        { provide: CI_CONFIG, useValue: config },
        { provide: JOBS_FILE_ENTRIES, useValue: jobsFile },
        { provide: RpcClient, useFactory: (nc: NatsConnection) => new RpcClient(nc, config.GANTRY_NATS_REQUEST_TIMEOUT_MS), inject: [NATS_CONNECTION] },
        { provide: LOCAL_EXECUTOR, useValue: new LocalExecutor({ killGraceMs: config.GANTRY_CI_KILL_GRACE_MS }) },
        RunLivePublisher, RunLogStore, JobsService, RunsService, RunClaims, RunnerApiService,
        LocalWorker, RunSweeper, JobsFileLoader, Idempotency,
      ],
    };
  }
}
