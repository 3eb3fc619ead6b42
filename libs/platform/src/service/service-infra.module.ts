import { Inject, Injectable, Module, type DynamicModule, type OnApplicationBootstrap, type OnApplicationShutdown, type Provider, type Type } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { Database } from '../db/database';
import { runMigrations, type MigrationClass } from '../db/migrations';
import { EventStore } from '../event-store/event-store';
import type { Projection } from '../event-store/event-store.types';
import { OutboxRelay } from '../event-store/outbox-relay';
import { ensureEventsStream } from '../messaging/jetstream';
import { connectNats, natsAuth } from '../messaging/nats-connection';
import { ServiceMetrics } from '../metrics/service-metrics';
import type { ServiceConfig } from './service-config';
import { LOGGER, NATS_CONNECTION, PROJECTIONS, SERVICE_CONFIG } from './tokens';

export interface ServiceInfraOptions {
  service: string;
  /** The service's own PostgreSQL schema. Persisted name: never rename. */
  schema: string;
  config: ServiceConfig;
  logger: Logger;
  migrations: MigrationClass[];
  projections: Type<Projection>[];
}

/** Starts the relay once everything is wired, and closes connections in order on shutdown. */
@Injectable()
class InfraLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    private readonly relay: OutboxRelay,
    private readonly db: Database,
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.relay.start();
  }

  async onApplicationShutdown(): Promise<void> {
    // Stop first: while the database or NATS is down the relay would retry for ever. Then one last
    // attempt at what is committed; what it cannot publish stays in the outbox for the next start.
    await this.relay.stop();
    await this.relay.flush().catch((error: unknown) => this.logger.warn({ err: String(error) }, 'outbox relay: unpublished events stay in the outbox until the next start'));
    await this.nc.drain().catch(() => undefined);
    await this.db.close();
  }
}

/**
 * Database (migrated at start), event store with the service's projections, NATS connection with
 * the EVENTS stream ensured, and the outbox relay: what every backend service stands on.
 */
@Module({})
export class ServiceInfraModule {
  static forRoot(options: ServiceInfraOptions): DynamicModule {
    const { config, logger } = options;
    const providers: Provider[] = [
      { provide: SERVICE_CONFIG, useValue: config },
      { provide: LOGGER, useValue: logger },
      {
        provide: Database,
        useFactory: async () => {
          const applied = await runMigrations(config.GANTRY_DATABASE_URL, options.schema, options.migrations);
          if (applied.length) logger.info({ applied }, 'migrations applied');
          return new Database({ url: config.GANTRY_DATABASE_URL, schema: options.schema, poolSize: config.GANTRY_DATABASE_POOL_SIZE, applicationName: options.service });
        },
      },
      {
        provide: NATS_CONNECTION,
        useFactory: async () => {
          const nc = await connectNats({ url: config.GANTRY_NATS_URL, name: `${options.service}-${process.pid}`, auth: natsAuth(config) });
          await ensureEventsStream(nc, config);
          return nc;
        },
      },
      ...options.projections,
      {
        provide: PROJECTIONS,
        useFactory: (...projections: Projection[]) => projections,
        inject: options.projections,
      },
      {
        provide: EventStore,
        useFactory: (db: Database, projections: Projection[]) => new EventStore(db, projections),
        inject: [Database, PROJECTIONS],
      },
      {
        provide: OutboxRelay,
        useFactory: (db: Database, nc: NatsConnection, store: EventStore) =>
          new OutboxRelay(db, nc, { pollMs: config.GANTRY_RELAY_POLL_MS, notifyChannel: store.notifyChannel, service: options.service }, logger),
        inject: [Database, NATS_CONNECTION, EventStore],
      },
      {
        provide: ServiceMetrics,
        useFactory: (relay: OutboxRelay) => new ServiceMetrics(options.service, relay, config, logger),
        inject: [OutboxRelay],
      },
      InfraLifecycle,
    ];
    return {
      module: ServiceInfraModule,
      global: true,
      providers,
      exports: [SERVICE_CONFIG, LOGGER, Database, NATS_CONNECTION, EventStore, OutboxRelay, PROJECTIONS],
    };
  }
}
