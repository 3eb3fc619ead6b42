import { z } from 'zod';
import {
  AdminTokensQuerySchema, ApiKeySchema, AssetListQuerySchema, ChangePasswordBodySchema, CreateApiKeyBodySchema, CreatedApiKeySchema, CreatedInstallTokenSchema, CreatedPatSchema,
  CreateInstallTokenBodySchema, CreatePatBodySchema, CreateRepoBodySchema, CreateUserBodySchema, ErrorEnvelopeSchema, ExchangeBodySchema,
  InstallTokenSchema, LoginBodySchema, LoginResponseSchema, MemberSchema, PageQuerySchema, PatSchema, PutMemberBodySchema, RepoSchema, RevokeLeakedBodySchema,
  RunnerSchema, RunnerTokenSchema, SetPasswordBodySchema, UpdateRepoBodySchema, UpdateUserBodySchema, UserSchema, WhoAmISchema, pageOf,
  ClaimBodySchema, ClaimedRunSchema, JobSchema, JobSpecSchema, RunControlSchema, RunnerFinishBodySchema, RunnerHeartbeatSchema,
  RunListQuerySchema, RunnerLogBodySchema, RunSchema, TriggerRunBodySchema,
} from '#contracts';
import { ROUTE_POLICIES, USER_KINDS } from '../auth/route-policy';
import { IDEMPOTENT_ROUTES } from './idempotency-key';

const items = <T extends z.ZodType>(item: T) => z.strictObject({ items: z.array(item) });

/** Request bodies by route: the same contract schemas the controllers parse with. */
export const BODIES: Record<string, z.ZodType> = {
  'POST /api/v1/auth/login': LoginBodySchema,
  'PUT /api/v1/user/password': ChangePasswordBodySchema,
  'POST /api/v1/user/tokens': CreatePatBodySchema,
  'POST /api/v1/users': CreateUserBodySchema,
  'PATCH /api/v1/users/:id': UpdateUserBodySchema,
  'PUT /api/v1/users/:id/password': SetPasswordBodySchema,
  'POST /api/v1/repos': CreateRepoBodySchema,
  'PATCH /api/v1/repos/:owner/:repo': UpdateRepoBodySchema,
  'PUT /api/v1/repos/:owner/:repo/members/:username': PutMemberBodySchema,
  'POST /api/v1/repos/:owner/:repo/keys': CreateApiKeyBodySchema,
  'POST /api/v1/install-tokens': CreateInstallTokenBodySchema,
  'POST /api/v1/install-tokens/exchange': ExchangeBodySchema,
  'POST /api/v1/credentials/revoke': RevokeLeakedBodySchema,
  'PUT /api/v1/repos/:owner/:repo/jobs/:job': JobSpecSchema,
  'POST /api/v1/repos/:owner/:repo/jobs/:job/runs': TriggerRunBodySchema,
  'POST /api/v1/runner/runs/claim': ClaimBodySchema,
  'POST /api/v1/runner/runs/:id/log': RunnerLogBodySchema,
  'POST /api/v1/runner/runs/:id/finish': RunnerFinishBodySchema,
};

/** Query parameters by route: the same contract schemas the controllers parse with. */
export const QUERIES: Record<string, z.ZodObject> = {
  'GET /api/v1/users': PageQuerySchema,
  'GET /api/v1/admin/tokens': AdminTokensQuerySchema,
  'GET /api/v1/repos/:owner/:repo/runs': RunListQuerySchema,
  'GET /api/v1/repos/:owner/:repo/assets': AssetListQuerySchema,
};

/** Success bodies by route (status 200 unless the route creates: 201). */
const RESPONSES: Record<string, z.ZodType> = {
  'POST /api/v1/auth/login': LoginResponseSchema,
  'GET /api/v1/user': WhoAmISchema,
  'POST /api/v1/user/tokens': CreatedPatSchema,
  'GET /api/v1/user/tokens': items(PatSchema),
  'GET /api/v1/user/tokens/:id': PatSchema,
  'DELETE /api/v1/user/tokens/:id': PatSchema,
  'POST /api/v1/user/tokens/:id/rotate': CreatedPatSchema,
  'GET /api/v1/admin/tokens': items(PatSchema),
  'DELETE /api/v1/admin/tokens/:id': PatSchema,
  'GET /api/v1/users': pageOf(UserSchema),
  'POST /api/v1/users': z.strictObject({ user: UserSchema, generatedPassword: z.string().optional() }),
  'GET /api/v1/users/:id': UserSchema,
  'PATCH /api/v1/users/:id': UserSchema,
  'POST /api/v1/users/:id/deactivate': UserSchema,
  'POST /api/v1/users/:id/activate': UserSchema,
  'GET /api/v1/repos': items(RepoSchema),
  'POST /api/v1/repos': RepoSchema,
  'GET /api/v1/repos/:owner/:repo': RepoSchema,
  'PATCH /api/v1/repos/:owner/:repo': RepoSchema,
  'GET /api/v1/repos/:owner/:repo/members': items(MemberSchema),
  'PUT /api/v1/repos/:owner/:repo/members/:username': MemberSchema,
  'POST /api/v1/repos/:owner/:repo/keys': CreatedApiKeySchema,
  'GET /api/v1/repos/:owner/:repo/keys': items(ApiKeySchema),
  'DELETE /api/v1/repos/:owner/:repo/keys/:id': ApiKeySchema,
  'POST /api/v1/install-tokens': CreatedInstallTokenSchema,
  'GET /api/v1/install-tokens': items(InstallTokenSchema),
  'DELETE /api/v1/install-tokens/:id': InstallTokenSchema,
  'POST /api/v1/install-tokens/exchange': RunnerTokenSchema,
  'GET /api/v1/runners': items(RunnerSchema),
  'GET /api/v1/runners/:id': RunnerSchema,
  'DELETE /api/v1/runners/:id': RunnerSchema,
  'POST /api/v1/runners/:id/rotate': RunnerTokenSchema,
  'GET /api/v1/runner': RunnerSchema,
  'POST /api/v1/runner/heartbeat': RunnerHeartbeatSchema,
  'POST /api/v1/runner/runs/claim': ClaimedRunSchema,
  'POST /api/v1/runner/runs/:id/log': RunControlSchema,
  'POST /api/v1/runner/runs/:id/finish': RunSchema,
  'GET /api/v1/jobs': items(JobSchema),
  'GET /api/v1/repos/:owner/:repo/jobs': items(JobSchema),
  'GET /api/v1/repos/:owner/:repo/jobs/:job': JobSchema,
  'PUT /api/v1/repos/:owner/:repo/jobs/:job': JobSchema,
  'POST /api/v1/repos/:owner/:repo/jobs/:job/runs': RunSchema,
  'GET /api/v1/repos/:owner/:repo/runs': pageOf(RunSchema),
  'GET /api/v1/runs/:id': RunSchema,
  'POST /api/v1/runs/:id/cancel': RunSchema,
};

const CREATED = new Set(['POST /api/v1/repos/:owner/:repo/jobs/:job/runs', 'PUT /api/v1/repos/:owner/:repo/jobs/:job', 'POST /api/v1/user/tokens', 'POST /api/v1/users', 'POST /api/v1/repos', 'POST /api/v1/repos/:owner/:repo/keys', 'POST /api/v1/install-tokens', 'POST /api/v1/user/tokens/:id/rotate', 'POST /api/v1/runners/:id/rotate']);
const NO_CONTENT = new Set(['POST /api/v1/auth/logout', 'PUT /api/v1/user/password', 'DELETE /api/v1/users/:id', 'PUT /api/v1/users/:id/password', 'DELETE /api/v1/repos/:owner/:repo', 'DELETE /api/v1/repos/:owner/:repo/members/:username', 'DELETE /api/v1/repos/:owner/:repo/jobs/:job']);
/** Routes that answer something other than JSON. */
const OTHER_CONTENT: Record<string, Record<string, unknown>> = {
  'GET /api/v1/runs/:id/log': { 'text/plain': { schema: { type: 'string' } } },
  'GET /api/v1/runs/:id/events': { 'text/event-stream': { schema: { type: 'string', description: 'status events (data: the run) and log events (id: the line\'s seq; data: {seq, text}); resume with Last-Event-ID' } } },
};

/** Second success answers of routes that have two. */
const ALSO: Record<string, Record<string, { description: string; withBody: boolean }>> = {
  'PUT /api/v1/repos/:owner/:repo/jobs/:job': { '200': { description: 'replaced an existing job', withBody: true } },
  'POST /api/v1/runner/runs/claim': { '204': { description: 'no run for this runner within GANTRY_RUNNER_CLAIM_WAIT_MS', withBody: false } },
};
const ACCEPTED = new Set(['POST /api/v1/credentials/revoke', 'POST /api/v1/runs/:id/cancel']);
const schema = (s: z.ZodType) => z.toJSONSchema(s, { unrepresentable: 'any', io: 'input' });

/** The optional header of the creating POSTs in IDEMPOTENT_ROUTES (README, "Idempotent requests"). */
const IDEMPOTENCY_KEY_PARAMETER = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description: 'Makes a retry safe: the same key with the same request (method, path, body) within 24 hours returns the first response and creates nothing new. '
    + 'Keys are per principal; a UUIDv4 is recommended. A response that holds a secret is returned again only to the credential that made the first request.',
  schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7E]([\\x20-\\x7E]*[\\x21-\\x7E])?$' },
};
const IDEMPOTENCY_CONFLICT = {
  description: 'idempotency_key_reused: this key came with a different request in the last 24 hours; '
    + 'idempotency_key_other_credential: the first response holds a secret and another credential made it; '
    + 'idempotency_key_in_use: the first request with this key is still being processed (retry); or the route\'s own conflicts',
};

/** OpenAPI 3.1 for every route in the policy table, with who may call it. */
export function openApiDocument(publicUrl: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [route, policy] of Object.entries(ROUTE_POLICIES)) {
    const [method, template] = route.split(' ');
    const path = template.replace(/:([a-zA-Z]+)/g, '{$1}');
    const parameters = [
      ...[...template.matchAll(/:([a-zA-Z]+)/g)].map(([, name]) => ({ name, in: 'path', required: true, schema: { type: 'string' } })),
      ...Object.entries(QUERIES[route]?.shape ?? {}).map(([name, field]) => ({ name, in: 'query', required: false, schema: schema(field as z.ZodType) })),
      ...(IDEMPOTENT_ROUTES.has(route) ? [IDEMPOTENCY_KEY_PARAMETER] : []),
    ];
    const errorEnvelope = { content: { 'application/json': { schema: schema(ErrorEnvelopeSchema) } } };
    const status = CREATED.has(route) ? '201' : NO_CONTENT.has(route) ? '204' : ACCEPTED.has(route) ? '202' : '200';
    const success = RESPONSES[route] ? { content: { 'application/json': { schema: schema(RESPONSES[route]) } } } : OTHER_CONTENT[route] ? { content: OTHER_CONTENT[route] } : {};
    paths[path] ??= {};
    paths[path][method.toLowerCase()] = {
      operationId: route,
      parameters,
      security: policy.public ? [] : [{ bearer: [] }, ...((policy.kinds ?? USER_KINDS).includes('api_key') ? [{ apiKey: [] }] : [])],
      'x-gantry-policy': policy,
      ...(BODIES[route] ? { requestBody: { required: true, content: { 'application/json': { schema: schema(BODIES[route]) } } } } : {}),
      responses: {
        [status]: { description: 'success', ...success },
        ...Object.fromEntries(Object.entries(ALSO[route] ?? {}).map(([code, also]) => [code, { description: also.description, ...(also.withBody ? success : {}) }])),
        ...(IDEMPOTENT_ROUTES.has(route) ? { '409': { ...IDEMPOTENCY_CONFLICT, ...errorEnvelope } } : {}),
        default: { description: 'error envelope', ...errorEnvelope },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Gantry', version: '1', description: 'CI credentials and release artifacts: every route, its body and who may call it.' },
    servers: [{ url: publicUrl }],
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'session JWT, gtp_ PAT, gtr_ runner token or gtk_ API key' },
        apiKey: { type: 'apiKey', in: 'header', name: 'X-Gantry-Key' },
      },
    },
    paths,
  };
}
