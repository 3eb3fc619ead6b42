import type { DynamicModule, INestMicroservice, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Transport, type MicroserviceOptions } from '@nestjs/microservices';
import type { Logger } from 'pino';
import type { CommonConfig } from '../config/load-config';
import { PinoNestLogger } from '../logging/logger';
import { natsAuth } from '../messaging/nats-connection';
import { exitOnSignals } from './shutdown';

/**
 * Starts a backend service as a Nest microservice on the NATS transport. Every handler joins the
 * queue group named after the service, so replicas share the load.
 */
export async function startService(
  module: Type | DynamicModule,
  service: string,
  config: Pick<CommonConfig, 'GANTRY_NATS_URL' | 'GANTRY_NATS_USER' | 'GANTRY_NATS_PASSWORD' | 'GANTRY_SHUTDOWN_TIMEOUT_MS'>,
  logger: Logger,
): Promise<INestMicroservice> {
  const app = await NestFactory.createMicroservice<MicroserviceOptions>(module, {
    transport: Transport.NATS,
    // The transport's own connection serves the requests: same user as the service's other one.
    options: { servers: config.GANTRY_NATS_URL, ...natsAuth(config), queue: service, name: `${service}-rpc-${process.pid}`, maxReconnectAttempts: -1, reconnectTimeWait: 250 },
    logger: new PinoNestLogger(logger),
  });
  await app.listen();
  exitOnSignals(app, logger, { timeoutMs: config.GANTRY_SHUTDOWN_TIMEOUT_MS });
  logger.info({ service }, 'service started');
  return app;
}
