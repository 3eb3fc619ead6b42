import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { httpStatusOf, type ErrorCode, type ErrorEnvelope } from '#contracts';

/** The error envelope of DESIGN §6 as bytes, for answers written before any hook or filter runs. */
export function envelopeJson(code: ErrorCode, message: string, requestId: string): string {
  const body: ErrorEnvelope = { error: { code, message, requestId } };
  return JSON.stringify(body);
}

/**
 * Fastify's `frameworkErrors`: the router refuses a URL before any hook runs (bad percent-encoding,
 * a path parameter over `maxParamLength`). Answered here in the envelope, with the request id and
 * without echoing the URL (it is the attacker's text, and may be huge).
 */
export function answerFrameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const [code, message]: [ErrorCode, string] =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? ['uri_too_long', 'a path segment is too long']
    : error.code === 'FST_ERR_BAD_URL' ? ['invalid_request', 'the URL is not valid percent-encoded UTF-8']
    : ['internal_error', 'internal error']; // FST_ERR_ASYNC_CONSTRAINT: no route of ours has one
  void reply
    .code(httpStatusOf(code))
    .header('x-request-id', request.id)
    .header('content-type', 'application/json; charset=utf-8')
    .send(envelopeJson(code, message, request.id));
}

/**
 * Fastify's `clientErrorHandler`: Node's HTTP parser refused the request (headers over
 * `--max-http-header-size`, a malformed request line, a request head that took too long). There is
 * no request yet, so the id is new; the connection is closed afterwards, as Node does.
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [code, message]: [ErrorCode, string] =
    error.code === 'HPE_HEADER_OVERFLOW' ? ['headers_too_large', 'the request headers are too large']
    : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? ['request_timeout', 'the request took too long to arrive']
    : ['invalid_request', 'malformed HTTP request'];
  // A response already under way on this connection cannot be followed by another one.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent;
  if (socket.writable && !inFlight) {
    const requestId = randomUUID();
    const body = envelopeJson(code, message, requestId);
    const status = httpStatusOf(code);
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Bad Request'}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nX-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' };
