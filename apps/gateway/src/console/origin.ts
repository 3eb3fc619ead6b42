import type { FastifyRequest } from 'fastify';

/**
 * Whether a browser request comes from the console's own origin: its Origin names this gateway's
 * public URL, or the host the request was sent to (a browser sets both; a page on another site
 * cannot choose its Origin). Non-browser clients that send no Origin use bearer tokens, not cookies.
 */
export function sameOrigin(request: FastifyRequest, publicOrigin: string): boolean {
  const origin = request.headers.origin;
  if (typeof origin !== 'string' || origin === 'null') return false;
  if (origin === publicOrigin) return true;
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}
