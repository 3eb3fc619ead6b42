import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import type { FastifyReply } from 'fastify';
import { AssetsRequests, CiRequests, eventJsonSchema, IdentityRequests } from '#contracts';
import { isConnected, NATS_CONNECTION, RpcClient } from '#platform';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config';
import { openApiDocument } from '../http/openapi';

const PINGS: Record<string, typeof IdentityRequests.ping> = { identity: IdentityRequests.ping, assets: AssetsRequests.ping, 'ci-runner': CiRequests.ping };
/** /readyz is public and fans out to every service and its database: one check a second serves all callers. */
const READINESS_REUSE_MS = 1000;

interface Readiness {
  ready: boolean;
  body: { status: 'ready' | 'not_ready'; checks: Record<string, 'up' | 'down'> };
}

@Controller()
export class HealthController {
  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  private readiness: { startedAt: number; result: Promise<Readiness> } | null = null;

  /** Liveness: the process answers. */
  @Get('/healthz')
  healthz() {
    return { status: 'ok' };
  }

  /**
   * Readiness: NATS is connected and every service answers its ping (which checks its database).
   * A check started less than a second ago (finished or still running) answers for everyone.
   */
  @Get('/readyz')
  async readyz(@Res({ passthrough: true }) reply: FastifyReply) {
    const now = Date.now();
    if (!this.readiness || now - this.readiness.startedAt >= READINESS_REUSE_MS) this.readiness = { startedAt: now, result: this.checkReadiness() };
    const { ready, body } = await this.readiness.result;
    void reply.status(ready ? 200 : 503);
    return body;
  }

  private async checkReadiness(): Promise<Readiness> {
    const rpc = new RpcClient(this.nc, this.config.GANTRY_READY_TIMEOUT_MS);
    const nats = isConnected(this.nc) ? 'up' : 'down'; // isClosed() is false while reconnecting
    const services = Object.fromEntries(
      await Promise.all(
        Object.entries(PINGS).map(async ([name, contract]) => {
          const answer = await rpc.request(contract, {}).catch(() => null);
          return [name, answer?.status === 'ok' ? 'up' : 'down'] as const;
        }),
      ),
    );
    const ready = nats === 'up' && Object.values(services).every((state) => state === 'up');
    return { ready, body: { status: ready ? 'ready' : 'not_ready', checks: { nats, ...services } } };
  }

  /** The API description (OpenAPI 3.1), built from the contracts and the route policy table. */
  @Get('/api/v1/openapi.json')
  openapi() {
    this.openApi ??= openApiDocument(this.config.GANTRY_PUBLIC_URL);
    return this.openApi;
  }

  private openApi: ReturnType<typeof openApiDocument> | null = null;

  /** The JSON Schema of every message on the EVENTS stream (as schemas/events.schema.json). */
  @Get('/api/v1/events/schema')
  eventSchema() {
    this.events ??= eventJsonSchema();
    return this.events;
  }

  private events: ReturnType<typeof eventJsonSchema> | null = null;
}
