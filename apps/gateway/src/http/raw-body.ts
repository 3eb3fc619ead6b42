import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';

/** The body of a raw-body route as the client declared it; the bytes are still unread on `request.raw`. */
export interface RawBody {
  contentType: string | undefined;
  /** Content-Length, or null when the body is chunked (or not a number). */
  contentLength: number | null;
  chunked: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    rawBody?: RawBody;
  }
}

/**
 * Routes declared with `@RouteConfig({ rawBody: true })` get their body as the request stream,
 * never parsed or buffered (an asset upload may be gigabytes of any content type). Before Fastify
 * picks a body parser, this hook records what the client declared and hides the body from it;
 * the route then streams `request.raw` itself. Every other route is untouched.
 */
export function installRawBodyRoutes(fastify: FastifyInstance): void {
  // A hook on those routes alone: the other routes pay nothing per request.
  fastify.addHook('onRoute', (route) => {
    if ((route.config as { rawBody?: boolean } | undefined)?.rawBody) route.onRequest = [...hooksOf(route.onRequest), rawBodyHook];
  });
}

function rawBodyHook(request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
  takeRawBody(request);
  done();
}

/** A route's hooks of one kind as an array (Fastify takes one function or several). */
export function hooksOf<T>(hooks: T | T[] | undefined): T[] {
  return hooks === undefined ? [] : Array.isArray(hooks) ? hooks : [hooks];
}

function takeRawBody(request: FastifyRequest): void {
  const headers = request.raw.headers;
  const declared = headers['content-length'];
  const chunked = headers['transfer-encoding'] !== undefined;
  request.rawBody = {
    contentType: headers['content-type'],
    contentLength: !chunked && declared !== undefined && /^\d{1,15}$/.test(declared) ? Number(declared) : null,
    chunked,
  };
  // What Fastify reads to decide whether there is a body to parse: nothing, for this route.
  delete headers['content-type'];
  delete headers['transfer-encoding'];
  headers['content-length'] = '0';
}
