import { describe, expect, it } from '@jest/globals';
import { ROUTE_POLICIES } from '../auth/route-policy';
import { IDEMPOTENT_ROUTES } from './idempotency-key';
import { openApiDocument } from './openapi';

describe('OpenAPI document', () => {
  const doc = openApiDocument('http://localhost:8080');

  it('describes every route of the policy table, with its security', () => {
    const operations = Object.values(doc.paths).flatMap((methods) => Object.values(methods) as { operationId: string; security: unknown[] }[]);
    expect(operations.map((o) => o.operationId).sort()).toEqual(Object.keys(ROUTE_POLICIES).sort());
    const login = doc.paths['/api/v1/auth/login'].post as { security: unknown[]; requestBody: { content: Record<string, { schema: { required: string[] } }> } };
    expect(login.security).toEqual([]);
    expect(login.requestBody.content['application/json'].schema.required).toEqual(['username', 'password']);
    expect((doc.paths['/api/v1/users'].get as { security: unknown[] }).security).toEqual([{ bearer: [] }]);
  });

  it('documents the query parameters of list routes, with their contract schema', () => {
    const users = doc.paths['/api/v1/users'].get as { parameters: { name: string; in: string; schema: { pattern?: string } }[] };
    expect(users.parameters.filter((p) => p.in === 'query').map((p) => p.name)).toEqual(['limit', 'cursor']);
    expect(users.parameters.find((p) => p.name === 'cursor')?.schema.pattern).toBe('^[A-Za-z0-9_-]*$');
  });

  it('rejects unknown fields in its body schemas, as the gateway does', () => {
    const body = (doc.paths['/api/v1/user/tokens'].post as { requestBody: { content: Record<string, { schema: { additionalProperties: boolean } }> } }).requestBody;
    expect(body.content['application/json'].schema.additionalProperties).toBe(false);
  });

  it('documents Idempotency-Key and its 409s on the idempotent creates only', () => {
    type Operation = { parameters: { name: string; in: string }[]; responses: Record<string, { description: string }> };
    const create = doc.paths['/api/v1/user/tokens'].post as Operation;
    expect(create.parameters).toContainEqual(expect.objectContaining({ name: 'Idempotency-Key', in: 'header' }));
    expect(create.responses['409'].description).toContain('idempotency_key_reused');
    expect(create.responses['409'].description).toContain('idempotency_key_other_credential');
    const trigger = doc.paths['/api/v1/repos/{owner}/{repo}/jobs/{job}/runs'].post as Operation;
    expect(trigger.parameters.map((p) => p.name)).toContain('Idempotency-Key');
    for (const route of IDEMPOTENT_ROUTES) expect(ROUTE_POLICIES).toHaveProperty([route]);
    const login = doc.paths['/api/v1/auth/login'].post as Operation;
    expect(login.parameters.map((p) => p.name)).not.toContain('Idempotency-Key');
  });
});
