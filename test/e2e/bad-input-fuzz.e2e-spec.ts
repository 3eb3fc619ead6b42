import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { z } from 'zod';
import { ROUTE_POLICIES } from '../../apps/gateway/src/auth/route-policy';
import { BODIES, QUERIES } from '../../apps/gateway/src/http/openapi';
import { ErrorEnvelopeSchema, httpStatusOf } from '../../libs/contracts/src';
import { Api } from '../support/api';
import { Ci } from '../support/ci';
import { startGantry, type GantryStack } from '../support/gantry-stack';

/** Runs per route: enough to hit every field with NUL, surrogates and odd encodings, in seconds. */
const RUNS = 30;
/** What PostgreSQL says when a string it cannot store reaches it, and the gateway's log of a 500. */
const DATABASE_REFUSAL = /invalid byte sequence|unsupported Unicode escape|invalid input syntax for type json|22021|22P05|unhandled error/;

/** Pieces an attacker tries: NUL, lone surrogates, percent-encodings valid and not, path tricks. */
const NASTY = [
  '\u0000', '\ud800', '\udfff', 'a\udc00b', '\ud83d', '%', '%00', '%zz', '%ED%A0%80', '%C0%80', '%E2%82', '%2F', '%2e%2e', '%25',
  '..', '.', '/', '\\', '?', '#', '&', '=', '+', ';', '__proto__', 'constructor', ' ', '\t', '\r\n', 'é', '😀', '\u202e', '\ufeff',
  "'; DROP TABLE users; --", '${x}', '<script>', '\u0085', 'admin', 'probe', '-1', '0', '1e999', 'null', 'true', '[]', '{}',
];
const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((unit) => String.fromCharCode(unit));
const piece = fc.oneof(fc.string({ maxLength: 12 }), fc.string({ unit: 'binary', maxLength: 12 }), fc.constantFrom(...NASTY), loneSurrogate);
const nastyString = (long: number) =>
  fc.oneof(
    { weight: 12, arbitrary: fc.array(piece, { maxLength: 4 }).map((pieces) => pieces.join('')) },
    { weight: 1, arbitrary: fc.constantFrom('x'.repeat(long), '\u0000'.repeat(long / 10), 'é'.repeat(long / 2), '\ud800'.repeat(long / 10)) },
  );
/** 100k characters in bodies; 2,000 in URLs (over the router's limits, under Node's 16 KiB head). */
const bodyString = nastyString(100_000);
const urlString = nastyString(2_000);

type JsonSchema = Record<string, any>;

/** Mostly what the contract accepts (so a request gets past the fields it does not fuzz), sometimes not. */
const mostly = <T>(valid: fc.Arbitrary<T>, invalid: fc.Arbitrary<unknown> = bodyString) =>
  fc.oneof({ weight: 3, arbitrary: valid }, { weight: 1, arbitrary: invalid });

/**
 * Values shaped like the contract's JSON Schema. Free text gets an attacker's string; fields with a
 * pattern, a format, an enum or a number mostly get a value that passes, so the free text next to
 * them reaches the service and its database.
 */
function shapedLike(schema: JsonSchema, depth = 0): fc.Arbitrary<unknown> {
  const options = schema.anyOf ?? schema.oneOf;
  if (options) return fc.oneof(...options.map((option: JsonSchema) => shapedLike(option, depth)));
  if ('const' in schema) return mostly(fc.constant(schema.const));
  if (schema.enum) return mostly(fc.constantFrom(...schema.enum));
  switch (schema.type) {
    case 'string':
      if (schema.format === 'uuid') return mostly(fc.uuid());
      if (schema.pattern) return mostly(fc.stringMatching(new RegExp(schema.pattern), { size: 'small' }));
      return bodyString;
    case 'integer':
    case 'number': {
      const min = schema.minimum ?? (schema.exclusiveMinimum === undefined ? -1000 : schema.exclusiveMinimum + 1);
      return mostly(fc.integer({ min, max: Math.min(schema.maximum ?? 1e6, 1e6) }), fc.oneof(fc.integer(), fc.double(), bodyString));
    }
    case 'boolean':
      return mostly(fc.boolean());
    case 'null':
      return fc.constant(null);
    case 'array':
      if (depth > 3) return fc.constant([]);
      return fc.array(shapedLike(schema.items ?? {}, depth + 1), { minLength: schema.minItems ?? 0, maxLength: Math.max(schema.minItems ?? 0, 3) });
    case 'object':
      if (schema.properties) {
        const fields = Object.fromEntries(Object.entries(schema.properties).map(([name, field]) => [name, shapedLike(field as JsonSchema, depth + 1)]));
        return fc.record(fields, { requiredKeys: schema.required ?? [] });
      }
      return fc.dictionary(
        schema.propertyNames ? (shapedLike(schema.propertyNames, depth + 1).map(String) as fc.Arbitrary<string>) : bodyString,
        typeof schema.additionalProperties === 'object' ? shapedLike(schema.additionalProperties, depth + 1) : bodyString,
        { maxKeys: 3 },
      );
    default:
      return bodyString;
  }
}

/** A query parameter's value: shaped like its contract field (a cursor may decode to a NUL), or anything. */
const queryValue = (schema: JsonSchema | undefined): fc.Arbitrary<string> =>
  schema ? fc.oneof(shapedLike({ ...schema, maxLength: undefined }).map((value) => String(value)), urlString) : urlString;

/** A URL component: percent-encoded as a client library would, or sent as typed (odd `%` included). */
const inUrl = (value: string, raw: boolean) =>
  raw ? value : [...Buffer.from(value, 'utf8')].map((byte) => (/[A-Za-z0-9._~-]/.test(String.fromCharCode(byte)) ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`)).join('');

describe('property: arbitrary strings in every body field, path and query parameter of every route', () => {
  let stack: GantryStack;
  let api: Api;
  let admin: string;
  let runner: string;
  let someoneId: string;
  let doomedId: string;
  let leaver: { username: string; password: string };

  beforeAll(async () => {
    // Per-credential limits would turn the fuzzing into 429s: documented, but it would test nothing.
    stack = await startGantry({ env: { GANTRY_RUNNER_CLAIM_WAIT_MS: '20', GANTRY_RATE_LIMIT_PER_SECOND: '100000', GANTRY_RATE_LIMIT_BURST: '100000' } });
    api = new Api(stack);
    admin = await api.login(stack.admin.username, stack.admin.password);
    const ci = new Ci(api);
    await ci.repo(admin, 'probe');
    await ci.repo(admin, 'doomed');
    await ci.job(admin, 'admin/probe', 'build', { steps: [{ run: 'true' }] });
    someoneId = (await api.user(admin, 'someone')).id;
    doomedId = (await api.user(admin, 'doomed')).id;
    leaver = await api.user(admin, 'leaver');
    const install = await api.post('/api/v1/install-tokens', admin, {});
    runner = (await api.post('/api/v1/install-tokens/exchange', undefined, { token: install.body.token, runnerName: 'fuzz-runner' })).body.token;
  });
  afterAll(async () => stack?.stop());

  /**
   * A value that names something real, so the other inputs get past the lookup. The deleting routes
   * get their own victims: the other routes keep something to work on.
   */
  const realValue = (name: string, route: string): fc.Arbitrary<string> => {
    switch (name) {
      case 'owner': return fc.constant('admin');
      case 'repo': return fc.constant(route === 'DELETE /api/v1/repos/:owner/:repo' ? 'doomed' : 'probe');
      case 'username': return fc.constant('someone');
      // Never a job that exists on the trigger route: random steps must not run on this machine.
      case 'job': return fc.constant(route.endsWith('/runs') ? 'never-defined' : 'build');
      case 'id': return fc.oneof(fc.uuid(), fc.constant(route === 'DELETE /api/v1/users/:id' ? doomedId : someoneId));
      default: return fc.constant('dir/file.txt');
    }
  };

  const routes = Object.keys(ROUTE_POLICIES);

  it.each(routes)('%s answers 2xx or a documented 4xx in the envelope, never a 5xx', async (route) => {
    const [method, template] = route.split(' ');
    const policy = ROUTE_POLICIES[route];
    const params = [...template.matchAll(/:([a-zA-Z]+)|\*/g)].map((match) => match[1] ?? '*');
    const body = BODIES[route] ? z.toJSONSchema(BODIES[route], { io: 'input', unrepresentable: 'any' }) : undefined;
    const querySchema = QUERIES[route] ? (z.toJSONSchema(QUERIES[route], { io: 'input', unrepresentable: 'any' }) as JsonSchema) : undefined;
    const hasInput = params.length > 0 || body !== undefined || querySchema !== undefined;

    const input = fc.record({
      params: fc.tuple(...params.map((name) => fc.record({ value: mostly(realValue(name, route), urlString) as fc.Arbitrary<string>, raw: fc.boolean() }))),
      // The documented parameters mostly; any other name too (refused, or ignored where none are read).
      query: fc.array(
        fc.oneof(
          ...Object.keys(querySchema?.properties ?? {}).map((name) => fc.record({ name: fc.constant(name), value: queryValue(querySchema?.properties[name]), raw: fc.boolean() })),
          fc.record({ name: urlString, value: urlString, raw: fc.boolean() }),
        ),
        { maxLength: 4 },
      ),
      body: body ? fc.oneof({ weight: 9, arbitrary: shapedLike(body) }, { weight: 1, arbitrary: bodyString }) : fc.constant(undefined),
    });

    await fc.assert(
      fc.asyncProperty(input, async ({ params: values, query: pairs, body: payload }) => {
        let i = 0;
        const path = template.replace(/:[a-zA-Z]+|\*/g, () => {
          const { value, raw } = values[i++];
          return inUrl(value, raw);
        });
        const search = pairs.map(({ name, value, raw }) => `${inUrl(name, raw)}=${inUrl(value, raw)}`).join('&');
        const token = policy.public ? undefined : policy.kinds?.length === 1 && policy.kinds[0] === 'runner' ? runner : route === 'POST /api/v1/auth/logout' ? await api.login(leaver.username, leaver.password) : admin;
        const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
        if (payload !== undefined) headers['content-type'] = 'application/json';
        const response = await fetch(`${stack.url}${path}${search ? `?${search}` : ''}`, {
          method, headers, body: payload === undefined ? undefined : JSON.stringify(payload), signal: AbortSignal.timeout(15_000),
        });
        const text = await response.text();
        const requestId = response.headers.get('x-request-id');
        const where = `${method} ${path.slice(0, 200)}${search ? `?${search.slice(0, 200)}` : ''} → ${response.status} ${text.slice(0, 300)}`;
        if (response.status >= 500 || !requestId) throw new Error(where);
        if (response.status >= 400) {
          let envelope: z.infer<typeof ErrorEnvelopeSchema>;
          try {
            envelope = ErrorEnvelopeSchema.parse(JSON.parse(text));
          } catch {
            throw new Error(`not the error envelope: ${where}`);
          }
          if (httpStatusOf(envelope.error.code) !== response.status || envelope.error.requestId !== requestId) throw new Error(`envelope out of step: ${where}`);
        }
      }),
      // Routes without input (health, whoami, lists): a few calls with an undocumented query.
      { numRuns: hasInput ? RUNS : 3, interruptAfterTimeLimit: 30_000 },
    );
  });

  it('no string reached PostgreSQL that it could not store, and nothing failed unhandled', () => {
    expect(stack.logs()).not.toMatch(DATABASE_REFUSAL);
  });
});
