import type { FastifyInstance } from 'fastify';
import { GantryError } from '#contracts';

/** A charset parameter other than UTF-8: JSON on this API is UTF-8 (RFC 8259 §8.1). */
const CHARSET = /;\s*charset\s*=\s*"?([^";\s]*)/i;

/** Text that cannot hold a `__proto__` or `constructor` key, escaped or not, needs no walk. */
const MAY_POISON = /__proto__|constructor|\\u/;

/**
 * JSON is the only body the API parses (DESIGN §6). Fastify's own parsers (JSON, text/plain) and
 * Nest's (JSON, form-urlencoded: disabled with `bodyParser: false`) are replaced by one: any other
 * content type, and a body without one, is a 415 `unsupported_media_type`, so a plain HTML form on
 * another site cannot log a browser in or create anything. Raw-body routes (asset uploads) hide
 * their body from Fastify before this runs (raw-body.ts) and keep any content type.
 */
export function installJsonBodies(fastify: FastifyInstance, bodyLimit: number): void {
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit }, (request, body, done) => {
    const charset = CHARSET.exec(request.headers['content-type'] ?? '')?.[1];
    if (charset !== undefined && !/^utf-?8$/i.test(charset)) {
      return done(new GantryError('unsupported_media_type', `the body must be application/json in UTF-8, not ${charset.slice(0, 40)}`), undefined);
    }
    try {
      done(null, parseJsonBody(body as string));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
}

/**
 * Parses a JSON body. A `__proto__` key anywhere, or a `constructor` key holding a `prototype`, is
 * refused (400 naming it) rather than stripped: no contract has such a field, so it can only be an
 * attempt at prototype pollution, and silently dropping part of a body would hide that from the
 * caller. A plain `constructor` key (an environment variable, a parameter) is data and passes.
 */
export function parseJsonBody(text: string): unknown {
  if (text === '') throw new GantryError('invalid_request', 'request body is required');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new GantryError('invalid_request', 'the body is not valid JSON');
  }
  if (MAY_POISON.test(text)) refusePoisonedKeys(value);
  return value;
}

interface Visit {
  value: unknown;
  key: string | null;
  parent: Visit | null;
}

/** Walks every object in the value (iteratively: nesting depth is the client's choice). */
function refusePoisonedKeys(root: unknown): void {
  const pending: Visit[] = [{ value: root, key: null, parent: null }];
  for (let visit = pending.pop(); visit; visit = pending.pop()) {
    const { value } = visit;
    if (value === null || typeof value !== 'object') continue;
    for (const key of Object.keys(value)) {
      const child: Visit = { value: (value as Record<string, unknown>)[key], key, parent: visit };
      if (key === '__proto__') throw poisoned(child, '"__proto__" is not accepted as a key');
      if (key === 'constructor' && child.value !== null && typeof child.value === 'object' && Object.hasOwn(child.value, 'prototype')) {
        throw poisoned(child, '"constructor" holding "prototype" is not accepted');
      }
      pending.push(child);
    }
  }
}

function poisoned(visit: Visit, reason: string): GantryError {
  const path: string[] = [];
  for (let at: Visit | null = visit; at?.key != null; at = at.parent) path.unshift(at.key);
  const field = path.join('.');
  return new GantryError('invalid_request', `${field}: ${reason} (prototype pollution)`, field);
}
