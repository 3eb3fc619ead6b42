import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Logger } from 'pino';
import { PinoNestLogger } from '#platform';
import { GatewayModule } from './app.module';
import type { GatewayConfig } from './config';
import { answerClientError, answerFrameworkError } from './http/framework-errors';
import { installJsonBodies } from './http/json-body';
import { HttpMetrics } from './http/metrics';
import { installPathParamCheck } from './http/path-params';
import { installRawBodyRoutes } from './http/raw-body';
import { requestIdFor } from './http/request-id';
import { policyGaps } from './auth/route-policy';

/** Builds and initialises the gateway application (not yet listening): Fastify, request ids, metrics. */
export async function createGateway(config: GatewayConfig, logger: Logger): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    genReqId: requestIdFor,
    requestIdHeader: false,
    trustProxy: config.GANTRY_TRUST_PROXY,
    bodyLimit: config.GANTRY_BODY_LIMIT_BYTES,
    // Refusals by the router and by Node's parser, in the error envelope too (DESIGN §6).
    frameworkErrors: answerFrameworkError,
    clientErrorHandler: answerClientError,
  });
  const app = await NestFactory.create<NestFastifyApplication>(GatewayModule.forRoot(config, logger), adapter, {
    logger: new PinoNestLogger(logger),
    // Nest would register JSON and form-urlencoded parsers: JSON only (installJsonBodies).
    bodyParser: false,
  });
  const fastify = app.getHttpAdapter().getInstance();
  // Set first, so every response carries it, errors included.
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    done();
  });
  app.get(HttpMetrics).install(fastify);
  installRawBodyRoutes(fastify);
  installJsonBodies(fastify, config.GANTRY_BODY_LIMIT_BYTES);
  installPathParamCheck(fastify);
  const routes: string[] = [];
  fastify.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) if (method !== 'HEAD') routes.push(`${method} ${route.url}`);
  });
  await app.init();
  // Refuse to start with a route nobody wrote an access policy for.
  const gaps = policyGaps(routes);
  if (gaps.unguarded.length || gaps.stale.length) throw new Error(`route policies out of step: ${JSON.stringify(gaps)}`);
  return app;
}
