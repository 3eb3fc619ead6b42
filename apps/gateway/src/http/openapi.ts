import { z } from 'zod';
import {
  AdminTokensQuerySchema, ApiKeySchema, AssetListQuerySchema, AssetSchema, AuditPageSchema, AuditQuerySchema, ChangePasswordBodySchema, CreateApiKeyBodySchema, CreatedApiKeySchema,
  CreatedInstallTokenSchema, CreatedPatSchema, CreateInstallTokenBodySchema, CreatePatBodySchema, CreateRepoBodySchema, CreateUserBodySchema, ErrorEnvelopeSchema, ExchangeBodySchema,
  InstallTokenSchema, JobNameSchema, JwksSchema, LivenessSchema, LoginBodySchema, LoginResponseSchema, MemberSchema, PageQuerySchema, PatSchema, PutMemberBodySchema, ReadinessSchema,
  RepoNameSchema, RepoSchema, RevokeLeakedBodySchema, RunnerSchema, RunnerTokenSchema, SetPasswordBodySchema, UpdateRepoBodySchema, UpdateUserBodySchema, UserSchema, UsernameSchema,
  WhoAmISchema, pageOf, ClaimBodySchema, ClaimedRunSchema, JobSchema, JobSpecSchema, RunControlSchema, RunnerFinishBodySchema, RunnerHeartbeatSchema, RunListQuerySchema,
  RunnerLogBodySchema, RunSchema, TriggerRunBodySchema, type PrincipalKind,
} from '#contracts';
import { ROUTE_POLICIES, USER_KINDS, type RoutePolicy } from '../auth/route-policy';
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

/**
 * Query parameters by route: the same contract schemas the controllers parse with (`@Query(new
 * ZodPipe(…))`; openapi.spec checks the two agree). Routes not listed take no query parameters.
 */
export const QUERIES: Record<string, z.ZodObject> = {
  'GET /api/v1/users': PageQuerySchema,
  'GET /api/v1/admin/tokens': AdminTokensQuerySchema,
  'GET /api/v1/repos/:owner/:repo/runs': RunListQuerySchema,
  'GET /api/v1/repos/:owner/:repo/assets': AssetListQuerySchema,
  'GET /api/v1/audit': AuditQuerySchema,
};

/** Path parameters by name: what the gateway accepts (anything else is 404 `not_found`). */
const PATH_PARAMETERS: Record<string, { schema: z.ZodType; description: string }> = {
  id: { schema: z.uuid(), description: 'the resource id (a UUID; anything else is 404)' },
  owner: { schema: UsernameSchema, description: 'the repository owner\'s username' },
  repo: { schema: RepoNameSchema, description: 'the repository name' },
  username: { schema: UsernameSchema, description: 'a username' },
  job: { schema: JobNameSchema, description: 'the job name' },
  path: { schema: z.string().min(1), description: 'the asset path: may contain `/` (one segment at most 100 characters); NFC-normalised' },
};

/** One answer of a route: its status, what it means and its body by content type. */
interface Answer {
  description: string;
  /** A JSON body (application/json), by its contract schema. */
  json?: z.ZodType;
  /** Other bodies: content type → JSON Schema of the body (a string for text). */
  content?: Record<string, Record<string, unknown>>;
}

const text = (description: string) => ({ schema: { type: 'string', description } });
const ANY_JSON_OBJECT = z.record(z.string(), z.unknown());

/** Success answers by route: status → answer. JSON bodies by their contract schema. */
const ANSWERS: Record<string, Record<string, Answer>> = {
  'GET /healthz': { '200': { description: 'the gateway process answers (liveness; says nothing about NATS or the services)', json: LivenessSchema } },
  'GET /readyz': {
    '200': { description: 'ready: NATS is connected and every service answers its ping (checked at most once a second)', json: ReadinessSchema },
    '503': { description: 'not ready: `checks` names what is down', json: ReadinessSchema },
  },
  'GET /.well-known/jwks.json': { '200': { description: 'the public keys session JWTs are signed with (EdDSA, Ed25519)', json: JwksSchema } },
  'GET /api/v1/openapi.json': { '200': { description: 'this document (OpenAPI 3.1)', content: { 'application/json': { schema: { type: 'object', properties: { openapi: { type: 'string' }, info: { type: 'object' }, paths: { type: 'object' } }, required: ['openapi', 'info', 'paths'] } } } } },
  'GET /api/v1/events/schema': { '200': { description: 'the JSON Schema (2020-12) of every message on the EVENTS stream, as in schemas/events.schema.json', content: { 'application/json': { schema: { type: 'object', properties: { $schema: { const: 'https://json-schema.org/draft/2020-12/schema' }, $defs: { type: 'object' } }, required: ['$schema', '$defs'] } } } } },
  'POST /api/v1/auth/login': { '200': { description: 'signed in: a session JWT', json: LoginResponseSchema } },
  'POST /api/v1/auth/logout': { '204': { description: 'the session ended' } },
  'POST /api/v1/credentials/revoke': { '202': { description: 'the report was taken; the answer never says which tokens existed', json: z.strictObject({}) } },
  'GET /api/v1/user': { '200': { description: 'the caller', json: WhoAmISchema } },
  'PUT /api/v1/user/password': { '204': { description: 'changed; every other session and cached credential of the user ends' } },
  'POST /api/v1/user/tokens': { '201': { description: 'created: the token is in this answer only', json: CreatedPatSchema } },
  'GET /api/v1/user/tokens': { '200': { description: 'the caller\'s tokens (never the token itself)', json: items(PatSchema) } },
  'GET /api/v1/user/tokens/:id': { '200': { description: 'the token', json: PatSchema } },
  'DELETE /api/v1/user/tokens/:id': { '200': { description: 'revoked: the token as it now is', json: PatSchema } },
  'POST /api/v1/user/tokens/:id/rotate': { '201': { description: 'the replacement token (the old one is revoked); the token is in this answer only', json: CreatedPatSchema } },
  'GET /api/v1/admin/tokens': { '200': { description: 'every user\'s tokens, or one user\'s', json: items(PatSchema) } },
  'DELETE /api/v1/admin/tokens/:id': { '200': { description: 'revoked: the token as it now is', json: PatSchema } },
  'GET /api/v1/users': { '200': { description: 'a page of users', json: pageOf(UserSchema) } },
  'POST /api/v1/users': { '201': { description: 'created; `generatedPassword` when none was given', json: z.strictObject({ user: UserSchema, generatedPassword: z.string().optional() }) } },
  'GET /api/v1/users/:id': { '200': { description: 'the user', json: UserSchema } },
  'PATCH /api/v1/users/:id': { '200': { description: 'the user as it now is', json: UserSchema } },
  'DELETE /api/v1/users/:id': { '204': { description: 'deleted' } },
  'POST /api/v1/users/:id/deactivate': { '200': { description: 'the user as it now is', json: UserSchema } },
  'POST /api/v1/users/:id/activate': { '200': { description: 'the user as it now is', json: UserSchema } },
  'PUT /api/v1/users/:id/password': { '204': { description: 'set; the user\'s sessions end' } },
  'GET /api/v1/repos': { '200': { description: 'the repositories the caller can see', json: items(RepoSchema) } },
  'POST /api/v1/repos': { '201': { description: 'created, owned by the caller', json: RepoSchema } },
  'GET /api/v1/repos/:owner/:repo': { '200': { description: 'the repository', json: RepoSchema } },
  'PATCH /api/v1/repos/:owner/:repo': { '200': { description: 'the repository as it now is', json: RepoSchema } },
  'DELETE /api/v1/repos/:owner/:repo': { '204': { description: 'deleted' } },
  'GET /api/v1/repos/:owner/:repo/members': { '200': { description: 'the members and their roles', json: items(MemberSchema) } },
  'PUT /api/v1/repos/:owner/:repo/members/:username': { '200': { description: 'the membership as it now is', json: MemberSchema } },
  'DELETE /api/v1/repos/:owner/:repo/members/:username': { '204': { description: 'removed' } },
  'POST /api/v1/repos/:owner/:repo/keys': { '201': { description: 'created: the key is in this answer only', json: CreatedApiKeySchema } },
  'GET /api/v1/repos/:owner/:repo/keys': { '200': { description: 'the repository\'s API keys (never the key itself)', json: items(ApiKeySchema) } },
  'DELETE /api/v1/repos/:owner/:repo/keys/:id': { '200': { description: 'revoked: the key as it now is', json: ApiKeySchema } },
  'POST /api/v1/install-tokens': { '201': { description: 'created: the token is in this answer only', json: CreatedInstallTokenSchema } },
  'GET /api/v1/install-tokens': { '200': { description: 'the install tokens', json: items(InstallTokenSchema) } },
  'DELETE /api/v1/install-tokens/:id': { '200': { description: 'cancelled: the install token as it now is', json: InstallTokenSchema } },
  'POST /api/v1/install-tokens/exchange': { '200': { description: 'a registered runner and its runner token (in this answer only)', json: RunnerTokenSchema } },
  'GET /api/v1/runners': { '200': { description: 'the runners', json: items(RunnerSchema) } },
  'GET /api/v1/runners/:id': { '200': { description: 'the runner', json: RunnerSchema } },
  'DELETE /api/v1/runners/:id': { '200': { description: 'revoked: the runner as it now is', json: RunnerSchema } },
  'POST /api/v1/runners/:id/rotate': { '201': { description: 'a new runner token (the old one is revoked)', json: RunnerTokenSchema } },
  'GET /api/v1/runner': { '200': { description: 'the calling runner', json: RunnerSchema } },
  'POST /api/v1/runner/heartbeat': { '200': { description: 'recorded', json: RunnerHeartbeatSchema } },
  'POST /api/v1/runner/runs/claim': {
    '200': { description: 'a run for this runner, with its CI job token', json: ClaimedRunSchema },
    '204': { description: 'no run for this runner within GANTRY_RUNNER_CLAIM_WAIT_MS: ask again' },
  },
  'POST /api/v1/runner/runs/:id/log': { '200': { description: 'stored; `cancel` tells the runner to stop', json: RunControlSchema } },
  'POST /api/v1/runner/runs/:id/finish': { '200': { description: 'the run as it ended', json: RunSchema } },
  'GET /api/v1/jobs': { '200': { description: 'every job the caller can see', json: items(JobSchema) } },
  'GET /api/v1/repos/:owner/:repo/jobs': { '200': { description: 'the repository\'s jobs', json: items(JobSchema) } },
  'GET /api/v1/repos/:owner/:repo/jobs/:job': { '200': { description: 'the job', json: JobSchema } },
  'PUT /api/v1/repos/:owner/:repo/jobs/:job': {
    '201': { description: 'created', json: JobSchema },
    '200': { description: 'replaced an existing job', json: JobSchema },
  },
  'DELETE /api/v1/repos/:owner/:repo/jobs/:job': { '204': { description: 'deleted' } },
  'POST /api/v1/repos/:owner/:repo/jobs/:job/runs': { '201': { description: 'queued', json: RunSchema } },
  'GET /api/v1/repos/:owner/:repo/runs': { '200': { description: 'a page of runs, newest first', json: pageOf(RunSchema) } },
  'GET /api/v1/runs/:id': { '200': { description: 'the run', json: RunSchema } },
  'POST /api/v1/runs/:id/cancel': { '202': { description: 'cancellation requested: the run as it now is (it ends `cancelled` once stopped)', json: RunSchema } },
  'GET /api/v1/runs/:id/log': { '200': { description: 'the stored log so far, one line per line', content: { 'text/plain': text('the log lines, each ending in a newline') } } },
  'GET /api/v1/runs/:id/events': {
    '200': {
      description: 'Server-Sent Events until the run ends',
      content: { 'text/event-stream': text('`status` events (data: the run as JSON) and `log` events (id: the line\'s seq; data: {seq, text}); resume with Last-Event-ID') },
    },
  },
  'GET /api/v1/repos/:owner/:repo/assets': { '200': { description: 'a page of assets, by path', json: pageOf(AssetSchema) } },
  'GET /api/v1/repos/:owner/:repo/assets/*': {
    '200': { description: 'the asset\'s bytes, with its own Content-Type, ETag and X-Checksum-Sha256', content: { '*/*': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } } } },
    '206': { description: 'the one requested range (Content-Range)', content: { '*/*': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } } } },
    '304': { description: 'If-None-Match matched the ETag' },
  },
  'HEAD /api/v1/repos/:owner/:repo/assets/*': {
    '200': { description: 'the headers a GET would answer (Content-Length, Content-Type, ETag, X-Checksum-Sha256), without the bytes' },
    '304': { description: 'If-None-Match matched the ETag' },
  },
  'PUT /api/v1/repos/:owner/:repo/assets/*': {
    '201': { description: 'uploaded', json: AssetSchema },
    '200': { description: 'replaced an existing asset', json: AssetSchema },
  },
  'DELETE /api/v1/repos/:owner/:repo/assets/*': { '204': { description: 'deleted' } },
  'GET /api/v1/audit': {
    '200': {
      description: 'events of the EVENTS stream, oldest first: a page (JSON), or with `Accept: application/x-ndjson` every match, one event envelope per line',
      json: AuditPageSchema,
      content: { 'application/x-ndjson': text('one event envelope (schema: the items of the JSON answer) per line') },
    },
  },
  'GET /cli/install.sh': { '200': { description: 'a POSIX shell script that installs the `gantry` CLI from this gateway', content: { 'text/x-shellscript': text('the install script, with this gateway\'s public URL') } } },
  'GET /cli/download': {
    '200': { description: 'the packed CLI (an npm tarball with its dependencies bundled); its SHA-256 in X-Checksum-Sha256', content: { 'application/gzip': { schema: { type: 'string', contentMediaType: 'application/gzip' } } } },
  },
  'GET /metrics': {
    '200': { description: 'Prometheus metrics', content: { 'text/plain; version=0.0.4': text('the Prometheus text exposition format 0.0.4') } },
  },
};

type Tag = 'meta' | 'cli' | 'sessions' | 'user' | 'tokens' | 'users' | 'repos' | 'api-keys' | 'runners' | 'runner' | 'jobs' | 'runs' | 'assets' | 'credentials' | 'audit';
const TAGS: Record<Tag, string> = {
  meta: 'Health, readiness, metrics and the published contracts (this document, the event schema, the session signing keys)',
  cli: 'The `gantry` command-line client: install script and package',
  sessions: 'Login sessions',
  user: 'The caller\'s own account',
  tokens: 'Personal access tokens',
  users: 'User administration',
  repos: 'Repositories and their members',
  'api-keys': 'Repository API keys',
  runners: 'Install tokens and registered runners (administration)',
  runner: 'The runner API: what a registered runner calls',
  jobs: 'CI jobs',
  runs: 'CI runs',
  assets: 'Release assets',
  credentials: 'Leaked-credential reports',
  audit: 'The audit trail',
};

/** What an operation is called and what it does. Every route of the policy table has one (openapi.spec). */
interface OperationText { id: string; tag: Tag; summary: string; description?: string }
export const OPERATIONS: Record<string, OperationText> = {
  'GET /healthz': { id: 'getHealthz', tag: 'meta', summary: 'Liveness' },
  'GET /readyz': { id: 'getReadyz', tag: 'meta', summary: 'Readiness', description: 'NATS connected and every service (and its database) answering.' },
  'GET /.well-known/jwks.json': { id: 'getJwks', tag: 'meta', summary: 'Session signing keys (JWKS)', description: 'Verify a session JWT offline with these keys (EdDSA); whether the session still counts only the gateway knows.' },
  'GET /api/v1/openapi.json': { id: 'getOpenApiDocument', tag: 'meta', summary: 'This OpenAPI document' },
  'GET /api/v1/events/schema': { id: 'getEventSchema', tag: 'meta', summary: 'JSON Schema of the events', description: 'One JSON Schema 2020-12 document that validates any message of the EVENTS stream (events.>), choosing the `data` schema by `type`.' },
  'GET /metrics': { id: 'getMetrics', tag: 'meta', summary: 'Prometheus metrics', description: 'On the metrics listener only (GANTRY_METRICS_HOST:GANTRY_METRICS_PORT, default 127.0.0.1:9464), never on the public port.' },
  'GET /cli/install.sh': { id: 'getCliInstallScript', tag: 'cli', summary: 'Install script of the gantry CLI', description: '`curl -fsSL <gateway>/cli/install.sh | sh` installs the CLI, pointed at this gateway.' },
  'GET /cli/download': { id: 'downloadCli', tag: 'cli', summary: 'The gantry CLI package', description: 'An npm tarball (`npm install -g <file>`); 404 when this server was built without it.' },
  'POST /api/v1/auth/login': { id: 'login', tag: 'sessions', summary: 'Sign in', description: 'Username and password → a session JWT (EdDSA). Failed attempts slow down per username and client.' },
  'POST /api/v1/auth/logout': { id: 'logout', tag: 'sessions', summary: 'Sign out', description: 'Ends the calling session.' },
  'GET /api/v1/user': { id: 'getCurrentUser', tag: 'user', summary: 'Who am I', description: 'The calling user and the credential\'s kind and scopes (for an API key or CI job token: its repository).' },
  'PUT /api/v1/user/password': { id: 'changeOwnPassword', tag: 'user', summary: 'Change my password', description: 'Needs the current password; ends every other session.' },
  'POST /api/v1/user/tokens': { id: 'createPersonalAccessToken', tag: 'tokens', summary: 'Create a personal access token', description: 'A `gtp_` token with the chosen scopes (cut down to the user\'s role on every request), shown only in this answer.' },
  'GET /api/v1/user/tokens': { id: 'listPersonalAccessTokens', tag: 'tokens', summary: 'List my personal access tokens' },
  'GET /api/v1/user/tokens/:id': { id: 'getPersonalAccessToken', tag: 'tokens', summary: 'Get one of my personal access tokens' },
  'DELETE /api/v1/user/tokens/:id': { id: 'revokePersonalAccessToken', tag: 'tokens', summary: 'Revoke one of my personal access tokens' },
  'POST /api/v1/user/tokens/:id/rotate': { id: 'rotatePersonalAccessToken', tag: 'tokens', summary: 'Rotate a personal access token', description: 'Revokes the token and creates its replacement with the same name and scopes.' },
  'GET /api/v1/admin/tokens': { id: 'listAllPersonalAccessTokens', tag: 'tokens', summary: 'List every user\'s personal access tokens (admin)' },
  'DELETE /api/v1/admin/tokens/:id': { id: 'revokeAnyPersonalAccessToken', tag: 'tokens', summary: 'Revoke any personal access token (admin)' },
  'GET /api/v1/users': { id: 'listUsers', tag: 'users', summary: 'List users' },
  'POST /api/v1/users': { id: 'createUser', tag: 'users', summary: 'Create a user', description: 'Without a password one is generated and returned once.' },
  'GET /api/v1/users/:id': { id: 'getUser', tag: 'users', summary: 'Get a user' },
  'PATCH /api/v1/users/:id': { id: 'updateUser', tag: 'users', summary: 'Change a user\'s role or display name' },
  'DELETE /api/v1/users/:id': { id: 'deleteUser', tag: 'users', summary: 'Delete a user' },
  'POST /api/v1/users/:id/deactivate': { id: 'deactivateUser', tag: 'users', summary: 'Deactivate a user', description: 'Every credential of the user stops working at once.' },
  'POST /api/v1/users/:id/activate': { id: 'activateUser', tag: 'users', summary: 'Activate a deactivated user' },
  'PUT /api/v1/users/:id/password': { id: 'setUserPassword', tag: 'users', summary: 'Set a user\'s password' },
  'GET /api/v1/repos': { id: 'listRepositories', tag: 'repos', summary: 'List the repositories the caller can see' },
  'POST /api/v1/repos': { id: 'createRepository', tag: 'repos', summary: 'Create a repository' },
  'GET /api/v1/repos/:owner/:repo': { id: 'getRepository', tag: 'repos', summary: 'Get a repository' },
  'PATCH /api/v1/repos/:owner/:repo': { id: 'updateRepository', tag: 'repos', summary: 'Change a repository' },
  'DELETE /api/v1/repos/:owner/:repo': { id: 'deleteRepository', tag: 'repos', summary: 'Delete a repository' },
  'GET /api/v1/repos/:owner/:repo/members': { id: 'listRepositoryMembers', tag: 'repos', summary: 'List a repository\'s members' },
  'PUT /api/v1/repos/:owner/:repo/members/:username': { id: 'putRepositoryMember', tag: 'repos', summary: 'Add a member or change their role' },
  'DELETE /api/v1/repos/:owner/:repo/members/:username': { id: 'removeRepositoryMember', tag: 'repos', summary: 'Remove a member' },
  'POST /api/v1/repos/:owner/:repo/keys': { id: 'createApiKey', tag: 'api-keys', summary: 'Create a repository API key', description: 'A `gtk_` key bound to this repository, shown only in this answer.' },
  'GET /api/v1/repos/:owner/:repo/keys': { id: 'listApiKeys', tag: 'api-keys', summary: 'List a repository\'s API keys' },
  'DELETE /api/v1/repos/:owner/:repo/keys/:id': { id: 'revokeApiKey', tag: 'api-keys', summary: 'Revoke a repository API key' },
  'POST /api/v1/install-tokens': { id: 'createInstallToken', tag: 'runners', summary: 'Create a runner install token', description: 'A one-time `gti_` token a new runner exchanges for its runner token.' },
  'GET /api/v1/install-tokens': { id: 'listInstallTokens', tag: 'runners', summary: 'List install tokens' },
  'DELETE /api/v1/install-tokens/:id': { id: 'cancelInstallToken', tag: 'runners', summary: 'Cancel an install token' },
  'POST /api/v1/install-tokens/exchange': { id: 'exchangeInstallToken', tag: 'runner', summary: 'Register a runner', description: 'Exchanges a one-time install token for a runner and its `gtr_` runner token.' },
  'GET /api/v1/runners': { id: 'listRunners', tag: 'runners', summary: 'List runners' },
  'GET /api/v1/runners/:id': { id: 'getRunner', tag: 'runners', summary: 'Get a runner' },
  'DELETE /api/v1/runners/:id': { id: 'revokeRunner', tag: 'runners', summary: 'Revoke a runner' },
  'POST /api/v1/runners/:id/rotate': { id: 'rotateRunnerToken', tag: 'runners', summary: 'Rotate a runner\'s token' },
  'GET /api/v1/runner': { id: 'getCurrentRunner', tag: 'runner', summary: 'The calling runner' },
  'POST /api/v1/runner/heartbeat': { id: 'runnerHeartbeat', tag: 'runner', summary: 'Runner heartbeat' },
  'POST /api/v1/runner/runs/claim': { id: 'claimRun', tag: 'runner', summary: 'Claim a run', description: 'Long poll: waits up to GANTRY_RUNNER_CLAIM_WAIT_MS for a run whose labels this runner has.' },
  'POST /api/v1/runner/runs/:id/log': { id: 'appendRunLog', tag: 'runner', summary: 'Append log lines to a claimed run' },
  'POST /api/v1/runner/runs/:id/finish': { id: 'finishRun', tag: 'runner', summary: 'Finish a claimed run' },
  'GET /api/v1/jobs': { id: 'listAllJobs', tag: 'jobs', summary: 'List every job the caller can see' },
  'GET /api/v1/repos/:owner/:repo/jobs': { id: 'listJobs', tag: 'jobs', summary: 'List a repository\'s jobs' },
  'GET /api/v1/repos/:owner/:repo/jobs/:job': { id: 'getJob', tag: 'jobs', summary: 'Get a job' },
  'PUT /api/v1/repos/:owner/:repo/jobs/:job': { id: 'putJob', tag: 'jobs', summary: 'Create or replace a job' },
  'DELETE /api/v1/repos/:owner/:repo/jobs/:job': { id: 'deleteJob', tag: 'jobs', summary: 'Delete a job' },
  'POST /api/v1/repos/:owner/:repo/jobs/:job/runs': { id: 'triggerRun', tag: 'runs', summary: 'Trigger a run of a job' },
  'GET /api/v1/repos/:owner/:repo/runs': { id: 'listRuns', tag: 'runs', summary: 'List a repository\'s runs' },
  'GET /api/v1/runs/:id': { id: 'getRun', tag: 'runs', summary: 'Get a run' },
  'GET /api/v1/runs/:id/log': { id: 'getRunLog', tag: 'runs', summary: 'A run\'s log as plain text' },
  'GET /api/v1/runs/:id/events': { id: 'streamRunEvents', tag: 'runs', summary: 'Follow a run (Server-Sent Events)' },
  'POST /api/v1/runs/:id/cancel': { id: 'cancelRun', tag: 'runs', summary: 'Cancel a run' },
  'GET /api/v1/repos/:owner/:repo/assets': { id: 'listAssets', tag: 'assets', summary: 'List a repository\'s assets' },
  'GET /api/v1/repos/:owner/:repo/assets/*': { id: 'downloadAsset', tag: 'assets', summary: 'Download an asset', description: 'Streams the bytes; one `Range` gives 206; `If-None-Match` with the ETag gives 304.' },
  'HEAD /api/v1/repos/:owner/:repo/assets/*': { id: 'headAsset', tag: 'assets', summary: 'An asset\'s headers' },
  'PUT /api/v1/repos/:owner/:repo/assets/*': { id: 'uploadAsset', tag: 'assets', summary: 'Upload or replace an asset', description: 'The body is the file, with its own Content-Type and a Content-Length (no chunked uploads). `If-None-Match: *` only creates; `If-Match: <etag>` only replaces that version.' },
  'DELETE /api/v1/repos/:owner/:repo/assets/*': { id: 'deleteAsset', tag: 'assets', summary: 'Delete an asset' },
  'POST /api/v1/credentials/revoke': { id: 'reportLeakedCredentials', tag: 'credentials', summary: 'Report leaked tokens', description: 'Anyone holding a leaked `gtp_`, `gtr_` or `gtk_` token can revoke it; the answer is 202 whether or not any token existed.' },
  'GET /api/v1/audit': { id: 'listAuditEvents', tag: 'audit', summary: 'Query the audit trail', description: 'Events of the EVENTS stream filtered by type, service, actor, subject and time; a page of JSON, or every match as NDJSON.' },
};

/** Routes the document has beside the policy table: HEAD of the asset download and the metrics listener's one route. */
const EXTRA_OPERATIONS: Record<string, RoutePolicy & { servers?: { url: string; description: string }[] }> = {
  'HEAD /api/v1/repos/:owner/:repo/assets/*': ROUTE_POLICIES['GET /api/v1/repos/:owner/:repo/assets/*'],
  'GET /metrics': { public: true, servers: [{ url: 'http://127.0.0.1:9464', description: 'the metrics listener (GANTRY_METRICS_HOST:GANTRY_METRICS_PORT), not the public port' }] },
};

/** Request headers some routes read, by route. */
const HEADERS: Record<string, Record<string, unknown>[]> = {
  'GET /api/v1/runs/:id/events': [{ name: 'Last-Event-ID', in: 'header', required: false, description: 'resume after this log line (its seq)', schema: { type: 'string', pattern: '^[0-9]+$' } }],
  'GET /api/v1/repos/:owner/:repo/assets/*': [
    { name: 'Range', in: 'header', required: false, description: 'one byte range (`bytes=0-99`, `bytes=-100`); several ranges answer the whole asset', schema: { type: 'string' } },
    { name: 'If-None-Match', in: 'header', required: false, description: 'the ETag you have: 304 when it is still current', schema: { type: 'string' } },
  ],
  'HEAD /api/v1/repos/:owner/:repo/assets/*': [{ name: 'If-None-Match', in: 'header', required: false, schema: { type: 'string' } }],
  'PUT /api/v1/repos/:owner/:repo/assets/*': [
    { name: 'Content-Length', in: 'header', required: true, description: 'the file\'s size (411 without it)', schema: { type: 'integer', minimum: 0 } },
    { name: 'If-None-Match', in: 'header', required: false, description: '`*`: only create (412 when the asset exists)', schema: { type: 'string', const: '*' } },
    { name: 'If-Match', in: 'header', required: false, description: 'the ETag of the version to replace (412 otherwise)', schema: { type: 'string' } },
  ],
};

/** Request bodies that are not JSON. */
const RAW_BODIES: Record<string, Record<string, unknown>> = {
  'PUT /api/v1/repos/:owner/:repo/assets/*': { '*/*': { schema: { type: 'string', contentMediaType: 'application/octet-stream', description: 'the file, with its own Content-Type (default application/octet-stream)' } } },
};

/** Credential kinds → security scheme names (components.securitySchemes). */
const SCHEMES_OF: Record<PrincipalKind, string[]> = {
  session: ['session'],
  pat: ['personalAccessToken'],
  runner: ['runnerToken'],
  ci_job: ['ciJobToken'],
  api_key: ['apiKey', 'apiKeyHeader'],
};

const SECURITY_SCHEMES = {
  session: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'A login session: the EdDSA JWT from POST /api/v1/auth/login (keys at /.well-known/jwks.json).' },
  personalAccessToken: { type: 'http', scheme: 'bearer', bearerFormat: 'gtp_ token', description: 'A personal access token (`gtp_…`): the scopes chosen at creation, cut down to the user\'s current role.' },
  runnerToken: { type: 'http', scheme: 'bearer', bearerFormat: 'gtr_ token', description: 'A runner token (`gtr_…`) from POST /api/v1/install-tokens/exchange: the runner API only.' },
  ciJobToken: { type: 'http', scheme: 'bearer', bearerFormat: 'gtc_ token', description: 'A CI job token (`gtc_…`, $GANTRY_TOKEN in a run): reads its repository and writes its assets while the run lasts.' },
  apiKey: { type: 'http', scheme: 'bearer', bearerFormat: 'gtk_ key', description: 'A repository API key (`gtk_…`) as a bearer token: bound to its repository (403 wrong_repository elsewhere).' },
  apiKeyHeader: { type: 'apiKey', in: 'header', name: 'X-Gantry-Key', description: 'A repository API key (`gtk_…`) in the X-Gantry-Key header instead of Authorization.' },
};

const KIND_NAMES: Record<PrincipalKind, string> = { session: 'session', pat: 'personal access token', runner: 'runner token', ci_job: 'CI job token', api_key: 'API key' };

/** JSON Schema of a contract schema: request side (`input`: defaults may be left out) or response side. */
function jsonSchema(s: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _, ...rest } = z.toJSONSchema(s, { unrepresentable: 'any', io, target: 'draft-2020-12' }) as Record<string, unknown>;
  return rest;
}

function securityOf(policy: RoutePolicy): Record<string, string[]>[] {
  if (policy.public) return [];
  const kinds = policy.sessionOnly ? ['session' as const] : (policy.kinds ?? USER_KINDS);
  return [...kinds.flatMap((kind) => SCHEMES_OF[kind].map((name) => ({ [name]: [] }))), ...(policy.anonymous ? [{}] : [])];
}

/** Who may call it, in words: the description's last paragraph. */
function whoMayCall(policy: RoutePolicy): string {
  if (policy.public) return policy.anonymousLimit ? 'Public; rate-limited per client IP.' : 'Public.';
  const kinds = policy.sessionOnly ? ['session' as const] : (policy.kinds ?? USER_KINDS);
  const parts = [`Credentials: ${kinds.map((kind) => KIND_NAMES[kind]).join(', ')}${policy.sessionOnly ? ' only (a token gets 403 session_required)' : ''}${policy.anonymous ? '; or none, for a public repository' : ''}.`];
  if (policy.scope) parts.push(`Scope: \`${policy.scope}\`.`);
  if (policy.repoRole) parts.push(`Repository role: at least \`${policy.repoRole}\`${policy.repoOf === 'run' ? ' in the run\'s repository' : ''} (a private repository the caller cannot read is a 404).`);
  return parts.join(' ');
}

const operationIdFallback = (route: string) => {
  const [method, template] = route.split(' ');
  const words = template.replace(/^\/api\/v1\//, '').split(/[^a-zA-Z0-9]+/).filter(Boolean);
  return method.toLowerCase() + words.map((w) => w[0].toUpperCase() + w.slice(1)).join('');
};

/**
 * The web console's own routes (policy `console`): HTML pages, hashed static files and the cookie
 * sign-in/out. They are not API for clients (a client signs in with POST /api/v1/auth/login and
 * sends a bearer token), so the API document leaves them out on purpose.
 */
export function consoleRoutes(): string[] {
  return Object.keys(ROUTE_POLICIES).filter((route) => ROUTE_POLICIES[route].console);
}

/** Every operation of the document, `METHOD template` as in the policy table (console routes excluded). */
export function documentedRoutes(): string[] {
  return [...Object.keys(ROUTE_POLICIES).filter((route) => !ROUTE_POLICIES[route].console), ...Object.keys(EXTRA_OPERATIONS)];
}

/** `METHOD /a/:b/*` → the OpenAPI path `/a/{b}/{path}`. */
export const openApiPath = (template: string) => template.replace(/:([a-zA-Z]+)/g, '{$1}').replace(/\/\*$/, '/{path}');

/** OpenAPI 3.1 for every route in the policy table, with who may call it. */
export function openApiDocument(publicUrl: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  const errorEnvelope = { content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorEnvelope' } } } };
  const policies: Record<string, RoutePolicy & { servers?: unknown[] }> = { ...ROUTE_POLICIES, ...EXTRA_OPERATIONS };
  for (const route of documentedRoutes()) {
    const policy = policies[route];
    const [method, template] = route.split(' ');
    const path = openApiPath(template);
    const query = QUERIES[route];
    const parameters = [
      ...[...path.matchAll(/\{([a-zA-Z]+)\}/g)].map(([, name]) => ({
        name, in: 'path', required: true, description: PATH_PARAMETERS[name]?.description, schema: PATH_PARAMETERS[name] ? jsonSchema(PATH_PARAMETERS[name].schema, 'input') : { type: 'string' },
      })),
      ...Object.entries(query?.shape ?? {}).map(([name, field]) => {
        const schema = jsonSchema(field as z.ZodType, 'input');
        const { description } = schema as { description?: string };
        return { name, in: 'query', required: !(field as z.ZodType).safeParse(undefined).success, ...(description ? { description } : {}), schema };
      }),
      ...(HEADERS[route] ?? []),
      ...(IDEMPOTENT_ROUTES.has(route) ? [IDEMPOTENCY_KEY_PARAMETER] : []),
    ];
    const responses: Record<string, unknown> = {};
    for (const [status, answer] of Object.entries(ANSWERS[route] ?? { '200': { description: 'success' } })) {
      const content = { ...(answer.json ? { 'application/json': { schema: jsonSchema(answer.json, 'output') } } : {}), ...answer.content };
      responses[status] = { description: answer.description, ...(Object.keys(content).length > 0 ? { content } : {}) };
    }
    if (IDEMPOTENT_ROUTES.has(route)) responses['409'] = { ...IDEMPOTENCY_CONFLICT, ...errorEnvelope };
    responses.default = { description: 'an error: the envelope, with the status of its code (README, HTTP API)', ...errorEnvelope };
    const text = OPERATIONS[route];
    const { servers, ...rule } = policy;
    paths[path] ??= {};
    paths[path][method.toLowerCase()] = {
      operationId: text?.id ?? operationIdFallback(route),
      summary: text?.summary ?? route,
      description: [text?.description, whoMayCall(rule)].filter(Boolean).join('\n\n'),
      tags: [text?.tag ?? 'meta'],
      ...(servers ? { servers } : {}),
      parameters,
      security: securityOf(rule),
      'x-gantry-policy': rule,
      ...(BODIES[route] ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(BODIES[route], 'input') } } } } : {}),
      ...(RAW_BODIES[route] ? { requestBody: { required: true, content: RAW_BODIES[route] } } : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Gantry',
      version: '1',
      description: 'CI credentials and release artifacts: every route, its parameters, bodies and answers, and who may call it. '
        + 'Errors are `{"error": {"code", "message", "requestId", "field?"}}` with the status of the code; every answer carries X-Request-Id.',
    },
    jsonSchemaDialect: 'https://spec.openapis.org/oas/3.1/dialect/base',
    servers: [{ url: publicUrl }],
    tags: Object.entries(TAGS).map(([name, description]) => ({ name, description })),
    security: [],
    paths,
    components: {
      schemas: { ErrorEnvelope: jsonSchema(ErrorEnvelopeSchema, 'output') },
      securitySchemes: SECURITY_SCHEMES,
    },
  };
}

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
