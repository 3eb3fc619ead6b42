import { Catch, HttpException, Inject, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { GantryError, httpStatusOf, type ErrorCode, type ErrorEnvelope } from '#contracts';
import { LOGGER } from '#platform';
import { SecurityEvents } from '../security/security-events';
import { RateLimitedError } from './rate-limit';

const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: 'invalid_request',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  413: 'payload_too_large',
  414: 'uri_too_long',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  503: 'service_unavailable',
};

const RETRY_AFTER_UNAVAILABLE_SECONDS = 1;

/** Every error leaves the gateway as the envelope of DESIGN §6, with the request id. */
@Catch()
export class ErrorEnvelopeFilter implements ExceptionFilter {
  constructor(
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly securityEvents: SecurityEvents,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const request = host.switchToHttp().getRequest<FastifyRequest>();
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const { status, error } = this.toError(exception, request);
    const body: ErrorEnvelope = { error: { code: error.code, message: error.message, requestId: request.id, ...(error.field ? { field: error.field } : {}) } };
    if (exception instanceof RateLimitedError) void reply.header('retry-after', String(exception.retryAfterSeconds));
    // A dependency that is down (NATS, a service, the database, S3) is usually back within seconds.
    else if (status === 503) void reply.header('retry-after', String(RETRY_AFTER_UNAVAILABLE_SECONDS));
    void reply.status(status).send(body);
    // 401, 403 and 429 become (aggregated) security events; nothing else costs anything here.
    if (status === 401 || status === 403 || status === 429) this.securityEvents.observe(request, status, error.code);
  }

  private toError(exception: unknown, request: FastifyRequest): { status: number; error: { code: ErrorCode; message: string; field?: string } } {
    if (exception instanceof GantryError) {
      return { status: httpStatusOf(exception.code), error: { code: exception.code, message: exception.message, field: exception.field } };
    }
    const status = exception instanceof HttpException ? exception.getStatus() : (exception as { statusCode?: number })?.statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      const code = CODE_BY_STATUS[status] ?? 'invalid_request';
      return { status, error: { code, message: messageFor(status, exception) } };
    }
    this.logger.error({ err: exception, requestId: request.id, route: request.routeOptions?.url }, 'unhandled error');
    return { status: 500, error: { code: 'internal_error', message: 'internal error' } };
  }
}

function messageFor(status: number, exception: unknown): string {
  if (status === 404) return 'no such route';
  if (status === 413) return 'request body too large';
  if (status === 415) return 'the body must be application/json (UTF-8)';
  const message = exception instanceof Error ? exception.message : 'bad request';
  return message.replace(/^Body cannot be empty.*/, 'request body is required');
}
