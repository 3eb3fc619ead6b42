import { createHash, createHmac } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { GantryError } from '#contracts';
import type { IdempotencyContext } from '#platform';
import { extractCredential } from '../auth/authenticator';

/** The asset upload: a PUT whose body is streamed, so its fingerprint is made differently. */
const UPLOAD_ROUTE = 'PUT /api/v1/repos/:owner/:repo/assets/*';

/**
 * The creating requests that honour `Idempotency-Key` (their services store the first response).
 * Elsewhere the header is ignored, as Stripe ignores it on GET and DELETE.
 */
export const IDEMPOTENT_ROUTES: ReadonlySet<string> = new Set([
  UPLOAD_ROUTE,
  'POST /api/v1/user/tokens',
  'POST /api/v1/user/tokens/:id/rotate',
  'POST /api/v1/users',
  'POST /api/v1/repos',
  'POST /api/v1/repos/:owner/:repo/keys',
  'POST /api/v1/install-tokens',
  'POST /api/v1/runners/:id/rotate',
  'POST /api/v1/repos/:owner/:repo/jobs/:job/runs',
]);

const HEADER = 'idempotency-key';
/** 1–255 printable ASCII characters; spaces only inside (Node trims the ends anyway). */
const KEY_FORMAT = /^[\x21-\x7E](?:[\x20-\x7E]{0,253}[\x21-\x7E])?$/;
const SEAL_LABEL = 'gantry idempotency seal v1\n';

/**
 * The idempotency part of the request context, for an authenticated POST on an idempotent route
 * that carries the header; null otherwise. Called only when the header is present on a POST, so
 * no other request pays for it.
 */
export function idempotencyOf(request: FastifyRequest): IdempotencyContext | null {
  const route = `${request.method} ${request.routeOptions.url}`;
  // Keys are per principal: an anonymous caller has none to keep them apart.
  if (!request.principal || !IDEMPOTENT_ROUTES.has(route)) return null;
  const key = singleHeader(request);
  if (!KEY_FORMAT.test(key)) throw new GantryError('invalid_request', 'Idempotency-Key: 1 to 255 printable ASCII characters (a UUID is recommended)', 'Idempotency-Key');
  const path = request.url.split('?', 1)[0];
  const fingerprint = createHash('sha256').update(`${request.method}\n${path}\n${route === UPLOAD_ROUTE ? uploadHead(request) : JSON.stringify(request.body) ?? ''}`).digest('hex');
  // The credential the AuthGuard authenticated, from the same headers: only it can open a sealed
  // response again. Never stored or logged; the HMAC does not reveal it.
  const credential = extractCredential(request.headers);
  if (!credential) return null;
  const sealKey = createHmac('sha256', credential).update(SEAL_LABEL + key).digest('base64url');
  return { key, fingerprint, sealKey };
}

/**
 * An upload's body streams past the gateway: what describes it up front stands in for it here, and
 * the assets service adds the SHA-256 of the bytes when the upload completes.
 */
function uploadHead(request: FastifyRequest): string {
  const h = request.headers;
  return JSON.stringify([h['content-length'] ?? null, h['content-type'] ?? null, h['if-match'] ?? null, h['if-none-match'] ?? null]);
}

/** Node joins a repeated header into one value, so the raw header list is what shows a repeat. */
function singleHeader(request: FastifyRequest): string {
  const raw = request.raw.rawHeaders;
  let value: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].toLowerCase() !== HEADER) continue;
    if (value !== undefined) throw new GantryError('invalid_request', 'Idempotency-Key: send the header once', 'Idempotency-Key');
    value = raw[i + 1];
  }
  return (value ?? '').trim();
}
