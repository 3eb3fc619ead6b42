import { NoRespondersError, TimeoutError, type NatsConnection } from '@nats-io/transport-node';
import { randomUUID } from 'node:crypto';
import { GantryError, WireErrorSchema, type RequestContract, type RequestOf, type ResponseOf } from '#contracts';
import { isConnected } from './connection-state';
import { setDeadline } from './deadline';
import { toHeaders, type RequestContext } from './request-context';

/**
 * Typed request/reply over NATS, speaking the NestJS NATS transport's wire format
 * (`{pattern, data, id}` → `{id, response | err}`) so services serve it with `@RpcHandler`.
 * Unlike Nest's ClientNats it uses the connection's muxed inbox, honours a timeout and fails at
 * once when no service answers (no-responders) or the connection is down (reconnecting) — the
 * gateway fails closed on all of them, without waiting out the timeout.
 */
export class RpcClient {
  /** Requests sent, for tests that prove a path makes none. */
  sent = 0;

  constructor(
    private readonly nc: NatsConnection,
    private readonly timeoutMs: number,
  ) {
    isConnected(nc); // starts following the connection's status now
  }

  async request<C extends RequestContract>(contract: C, payload: RequestOf<C>, context: Partial<RequestContext> = {}): Promise<ResponseOf<C>> {
    if (!isConnected(this.nc)) throw unavailable(contract.subject, new Error('NATS connection is down'));
    const packet = JSON.stringify({ pattern: contract.subject, data: payload, id: randomUUID() });
    this.sent++;
    const headers = toHeaders(context);
    setDeadline(headers, this.timeoutMs); // the service drops it once we have stopped waiting
    let reply;
    try {
      reply = await this.nc.request(contract.subject, packet, { timeout: this.timeoutMs, headers });
    } catch (error) {
      if (error instanceof NoRespondersError || error instanceof TimeoutError || isConnectionError(error)) {
        throw unavailable(contract.subject, error);
      }
      throw error;
    }
    const body = reply.json<{ response?: unknown; err?: unknown }>();
    if (body.err !== undefined && body.err !== null) {
      const wire = WireErrorSchema.safeParse(body.err);
      throw wire.success ? GantryError.fromWire(wire.data) : new GantryError('internal_error', `${contract.subject} failed`);
    }
    return contract.response.parse(body.response) as ResponseOf<C>;
  }
}

function unavailable(subject: string, cause: unknown): GantryError {
  const service = subject.split('.')[0];
  const code = service === 'identity' ? 'identity_unavailable' : 'service_unavailable';
  return new GantryError(code, `${service} service is unavailable`, undefined, { cause });
}

function isConnectionError(error: unknown): boolean {
  const name = (error as Error)?.name ?? '';
  return name === 'ClosedConnectionError' || name === 'ConnectionError' || name === 'RequestError';
}
