import { describe, expect, it } from '@jest/globals';
import { validate as readmeValidate } from '@readme/openapi-parser';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import openapiTS, { astToString } from 'openapi-typescript';
import type { OpenAPIV3_1 } from 'openapi-types';
import { ROUTE_POLICIES } from '../auth/route-policy';
import { IDEMPOTENT_ROUTES } from './idempotency-key';
import { consoleRoutes, documentedRoutes, OPERATIONS, openApiDocument, QUERIES } from './openapi';
import { ZodPipe } from './zod-body.pipe';

const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as typeof addFormatsModule;

type Operation = {
  operationId: string; summary: string; description: string; tags: string[];
  security: Record<string, string[]>[];
  parameters: { name: string; in: string; required: boolean; schema: Record<string, unknown> }[];
  requestBody?: { content: Record<string, { schema: Record<string, unknown> }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: Record<string, unknown> }> }>;
};

describe('OpenAPI document', () => {
  const doc = openApiDocument('http://localhost:8080');
  const operations = Object.entries(doc.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ path, method, op: op as Operation })));
  const op = (path: string, method: string) => doc.paths[path][method] as Operation;

  it('describes every route of the policy table (and HEAD of the asset download, and /metrics)', () => {
    expect(operations).toHaveLength(documentedRoutes().length);
    // The web console's pages, static files and cookie sign-in are left out on purpose (not API).
    const apiRoutes = Object.keys(ROUTE_POLICIES).filter((route) => !consoleRoutes().includes(route));
    expect(documentedRoutes()).toEqual(expect.arrayContaining(apiRoutes));
    expect(consoleRoutes().sort()).toEqual(['GET /', 'GET /console', 'GET /console/*', 'GET /console/admin/*', 'GET /login', 'GET /static/*', 'POST /console/login', 'POST /console/logout']);
    expect(documentedRoutes().filter((route) => consoleRoutes().includes(route))).toEqual([]);
    expect(documentedRoutes()).toEqual(expect.arrayContaining(['GET /metrics', 'HEAD /api/v1/repos/:owner/:repo/assets/*', 'GET /api/v1/events/schema']));
  });

  it('names every operation with an identifier, a summary, a description and a declared tag', () => {
    const missing = documentedRoutes().filter((route) => !OPERATIONS[route]);
    expect(missing).toEqual([]); // a new route needs its entry in OPERATIONS (openapi.ts)
    const ids = operations.map(({ op }) => op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    const tags = new Set(doc.tags.map((tag) => tag.name));
    for (const { op } of operations) {
      expect(op.operationId).toMatch(/^[a-z][A-Za-z0-9]*$/);
      expect(op.summary.length).toBeGreaterThan(3);
      expect(op.description.length).toBeGreaterThan(3);
      expect(op.tags.every((tag) => tags.has(tag))).toBe(true);
    }
    expect(op('/api/v1/user/tokens', 'post').operationId).toBe('createPersonalAccessToken');
    expect(op('/healthz', 'get').operationId).toBe('getHealthz');
  });

  it('is valid OpenAPI 3.1 for two independent validators', async () => {
    const seriousme = await new Validator().validate(structuredClone(doc) as never);
    expect(seriousme.errors).toBeUndefined();
    expect(seriousme.valid).toBe(true);
    const readme = await readmeValidate(structuredClone(doc) as unknown as OpenAPIV3_1.Document);
    expect(readme).toEqual(expect.objectContaining({ valid: true, warnings: [] }));
  });

  it('every schema in it compiles in ajv strict mode (JSON Schema 2020-12)', () => {
    const ajv = new Ajv2020({ strict: true });
    addFormats(ajv);
    ajv.addSchema({ $id: 'urn:gantry:openapi-components', $defs: doc.components.schemas });
    const resolve = (schema: object) => JSON.parse(JSON.stringify(schema).replaceAll('"#/components/schemas/', '"urn:gantry:openapi-components#/$defs/'));
    let compiled = 0;
    for (const { op } of operations) {
      const schemas = [
        ...op.parameters.map((p) => p.schema),
        ...Object.values(op.requestBody?.content ?? {}).map((c) => c.schema),
        ...Object.values(op.responses).flatMap((r) => Object.values(r.content ?? {}).map((c) => c.schema)),
      ];
      for (const schema of schemas) {
        ajv.compile(resolve(schema));
        compiled++;
      }
    }
    expect(compiled).toBeGreaterThan(200);
  });

  it('documents every query parameter with type, bounds and default, from the schema the controller parses with', async () => {
    // The controllers' own @Query(new ZodPipe(schema)) pipes, read from Nest's route metadata.
    const parsedWith: Record<string, unknown> = {};
    const files = readdirSync('apps/gateway/src', { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.controller.ts'));
    for (const file of files) {
      const module = (await import(`./${relative('apps/gateway/src/http', join('apps/gateway/src', file)).replace(/\.ts$/, '')}`)) as Record<string, unknown>;
      for (const controller of Object.values(module).filter((value): value is new () => object => typeof value === 'function' && Reflect.hasMetadata('path', value))) {
        const base = String(Reflect.getMetadata('path', controller));
        for (const name of Object.getOwnPropertyNames(controller.prototype)) {
          const handler = (controller.prototype as Record<string, unknown>)[name];
          if (name === 'constructor' || typeof handler !== 'function' || !Reflect.hasMetadata('method', handler)) continue;
          const method = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'ALL', 'OPTIONS', 'HEAD'][Reflect.getMetadata('method', handler) as number];
          const sub = String(Reflect.getMetadata('path', handler));
          const path = `/${[base, sub].map((p) => p.replace(/^\/|\/$/g, '')).filter(Boolean).join('/')}`;
          const args = (Reflect.getMetadata('__routeArguments__', controller, name) ?? {}) as Record<string, { pipes: unknown[] }>;
          for (const [key, arg] of Object.entries(args)) {
            if (key.split(':')[0] !== '4') continue; // RouteParamtypes.QUERY
            const pipe = arg.pipes.find((p): p is ZodPipe<never> => p instanceof ZodPipe);
            parsedWith[`${method} ${path}`] = (pipe as unknown as { schema: unknown } | undefined)?.schema;
          }
        }
      }
    }
    expect(Object.keys(parsedWith).sort()).toEqual(Object.keys(QUERIES).sort());
    for (const [route, schema] of Object.entries(parsedWith)) expect(schema).toBe(QUERIES[route]);

    const runs = op('/api/v1/repos/{owner}/{repo}/runs', 'get').parameters.filter((p) => p.in === 'query');
    expect(runs.map((p) => p.name)).toEqual(['status', 'job', 'limit', 'cursor']);
    expect(runs.find((p) => p.name === 'limit')).toEqual({ name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 100, default: 30 } });
    expect(runs.find((p) => p.name === 'status')?.schema.enum).toContain('succeeded');
    const users = op('/api/v1/users', 'get').parameters;
    expect(users.find((p) => p.name === 'cursor')?.schema.pattern).toBe('^[A-Za-z0-9_-]*$');
    expect(op('/api/v1/admin/tokens', 'get').parameters.find((p) => p.name === 'userId')?.schema.format).toBe('uuid');
    expect(op('/api/v1/repos/{owner}/{repo}/assets', 'get').parameters.filter((p) => p.in === 'query').map((p) => p.name)).toEqual(['prefix', 'limit', 'cursor']);
  });

  it('documents every body an answer carries: health, readiness, JWKS, this document, metrics, the leak report', () => {
    const json = (path: string, method: string, status: string) => op(path, method).responses[status].content?.['application/json']?.schema;
    expect(json('/healthz', 'get', '200')).toEqual(expect.objectContaining({ required: ['status'] }));
    expect(json('/readyz', 'get', '200')).toEqual(expect.objectContaining({ required: ['status', 'checks'] }));
    expect(json('/readyz', 'get', '503')).toBeDefined();
    expect(json('/.well-known/jwks.json', 'get', '200')).toEqual(expect.objectContaining({ required: ['keys'] }));
    expect(json('/api/v1/openapi.json', 'get', '200')).toBeDefined();
    expect(json('/api/v1/events/schema', 'get', '200')).toBeDefined();
    expect(json('/api/v1/credentials/revoke', 'post', '202')).toEqual({ type: 'object', properties: {}, additionalProperties: false });
    expect(op('/metrics', 'get').responses['200'].content).toHaveProperty(['text/plain; version=0.0.4']);
    for (const { path, method, op: operation } of operations) {
      expect(operation.responses.default.content?.['application/json']).toBeDefined();
      for (const [status, answer] of Object.entries(operation.responses)) {
        if (status === 'default' || status === '204' || status === '304' || method === 'head') continue;
        if (!answer.content) throw new Error(`${method.toUpperCase()} ${path} ${status}: no content documented`);
      }
    }
  });

  it('says which credential kinds each route takes, as security schemes', () => {
    const schemes = (path: string, method: string) => op(path, method).security.map((requirement) => Object.keys(requirement)[0] ?? '(none)');
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(['apiKey', 'apiKeyHeader', 'ciJobToken', 'personalAccessToken', 'runnerToken', 'session']);
    expect(schemes('/api/v1/auth/login', 'post')).toEqual([]);
    expect(schemes('/api/v1/users', 'get')).toEqual(['session', 'personalAccessToken']);
    expect(schemes('/api/v1/user/tokens', 'post')).toEqual(['session']);
    expect(schemes('/api/v1/runner', 'get')).toEqual(['runnerToken']);
    expect(schemes('/api/v1/repos/{owner}/{repo}/jobs/{job}/runs', 'post')).toEqual(['session', 'personalAccessToken', 'apiKey', 'apiKeyHeader']);
    expect(schemes('/api/v1/repos/{owner}/{repo}/assets/{path}', 'get')).toEqual(['session', 'personalAccessToken', 'apiKey', 'apiKeyHeader', 'ciJobToken', '(none)']);
    expect(op('/api/v1/user/tokens', 'post').description).toContain('session only');
  });

  it('rejects unknown fields in its body schemas, as the gateway does', () => {
    const body = op('/api/v1/user/tokens', 'post').requestBody!;
    expect(body.content['application/json'].schema.additionalProperties).toBe(false);
    const login = op('/api/v1/auth/login', 'post');
    expect(login.requestBody!.content['application/json'].schema.required).toEqual(['username', 'password']);
  });

  it('documents Idempotency-Key and its 409s on the idempotent creates only', () => {
    const create = op('/api/v1/user/tokens', 'post');
    expect(create.parameters).toContainEqual(expect.objectContaining({ name: 'Idempotency-Key', in: 'header' }));
    expect(create.responses['409'].description).toContain('idempotency_key_reused');
    expect(create.responses['409'].description).toContain('idempotency_key_other_credential');
    expect(op('/api/v1/repos/{owner}/{repo}/jobs/{job}/runs', 'post').parameters.map((p) => p.name)).toContain('Idempotency-Key');
    for (const route of IDEMPOTENT_ROUTES) expect(ROUTE_POLICIES).toHaveProperty([route]);
    expect(op('/api/v1/auth/login', 'post').parameters.map((p) => p.name)).not.toContain('Idempotency-Key');
  });

  it('generates a typed client (openapi-typescript) whose calls type-check, and whose mistakes do not', async () => {
    const dir = mkdtempSync(join(process.cwd(), '.openapi-client-'));
    try {
      writeFileSync(join(dir, 'gantry.d.ts'), astToString(await openapiTS(structuredClone(doc) as never)));
      const client = (body: string) => `import createClient from 'openapi-fetch';
import type { paths, operations } from './gantry';
const gantry = createClient<paths>({ baseUrl: 'http://localhost:8080' });
export async function main(session: string) {
${body}
}
`;
      writeFileSync(join(dir, 'good.ts'), client(`
  const login = await gantry.POST('/api/v1/auth/login', { body: { username: 'admin', password: 'secret' } });
  const token: string | undefined = login.data?.token;
  const headers = { authorization: \`Bearer \${session}\` };
  const pat = await gantry.POST('/api/v1/user/tokens', { headers, body: { name: 'ci', scopes: ['repo:read'] } });
  const secret: string | undefined = pat.data?.token;
  const runs = await gantry.GET('/api/v1/repos/{owner}/{repo}/runs', { headers, params: { path: { owner: 'alice', repo: 'tools' }, query: { status: 'failed', limit: 10 } } });
  const numbers: number[] | undefined = runs.data?.items.map((run) => run.number);
  const next: string | null | undefined = runs.data?.nextCursor;
  const ready = await gantry.GET('/readyz');
  const checks: Record<string, 'up' | 'down'> | undefined = ready.data?.checks;
  const error: string | undefined = (await gantry.GET('/api/v1/user', { headers })).error?.error.code;
  const jwks = await gantry.GET('/.well-known/jwks.json');
  const kid: string | undefined = jwks.data?.keys[0]?.kid;
  type Audit = operations['listAuditEvents']['parameters']['query'];
  const audit: Audit = { type: 'identity.pat.*', limit: 50 };
  return { token, secret, numbers, next, checks, error, kid, audit };`));
      writeFileSync(join(dir, 'bad.ts'), client(`
  await gantry.GET('/api/v1/repos/{owner}/{repo}/runs', { params: { path: { owner: 'a', repo: 'b' }, query: { limit: 'ten' } } });
  await gantry.POST('/api/v1/user/tokens', { body: { name: 'ci', scopes: ['not:a:scope'] } });
  await gantry.GET('/api/v1/nowhere');`));
      const tsc = (file: string) => {
        const compilerOptions = { noEmit: true, strict: true, skipLibCheck: true, target: 'es2022', module: 'nodenext', moduleResolution: 'nodenext', types: [] };
        writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: [file] }));
        return spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', dir], { encoding: 'utf8' });
      };
      const good = tsc('good.ts');
      expect(good.stdout + good.stderr).toBe('');
      const bad = tsc('bad.ts');
      expect(bad.stdout.match(/error TS\d+/g)?.length).toBe(3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60000);
});
