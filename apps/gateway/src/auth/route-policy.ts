import type { PrincipalKind, RepoRole, Scope } from '#contracts';

/** Who may call a route. Everything not listed here is refused: add a route, add its policy. */
export interface RoutePolicy {
  public?: true;
  /** Credential kinds accepted; default: a user's own (session, personal access token). */
  kinds?: readonly PrincipalKind[];
  /** Only a login session (not a token): 403 session_required otherwise. */
  sessionOnly?: true;
  scope?: Scope;
  /** The caller's least role in the `:owner/:repo` of the route (or in the run's repository). */
  repoRole?: RepoRole;
  /** The repository is the one of the run named by `:id` (run routes have no `:owner/:repo`). */
  repoOf?: 'run';
  /** A public route that an anonymous caller could brute-force: rate-limited per client IP. */
  anonymousLimit?: true;
  /**
   * Credential optional: without one the caller is anonymous (reads public repositories only, and
   * is rate-limited per client IP); a credential that is sent must be valid (401 otherwise).
   */
  anonymous?: true;
  /**
   * A web console page: the session (cookie) is resolved if there is one but never refused by the
   * guard; the page redirects to /login (no session) or to the console home (not an admin).
   */
  page?: 'user' | 'admin';
  /** The web console's own routes (pages, static files, cookie sign-in): not part of the API document. */
  console?: true;
}

const PUBLIC: RoutePolicy = { public: true };
const CONSOLE_PUBLIC: RoutePolicy = { public: true, console: true };
const PUBLIC_LIMITED: RoutePolicy = { public: true, anonymousLimit: true };
const REPO_READERS: readonly PrincipalKind[] = ['session', 'pat', 'api_key', 'ci_job'];
/** Who am I: every credential but a runner token (a runner asks GET /api/v1/runner). */
const ANY_CREDENTIAL: RoutePolicy = { kinds: ['session', 'pat', 'ci_job', 'api_key'] };
export const USER_KINDS: readonly PrincipalKind[] = ['session', 'pat'];
/** Users and repository API keys: who reads and drives CI (a run's own token does not). */
const CI_CALLERS: readonly PrincipalKind[] = ['session', 'pat', 'api_key'];
const RUN_READ: RoutePolicy = { kinds: CI_CALLERS, scope: 'repo:read', repoRole: 'read', repoOf: 'run' };
const RUNNER_ONLY: RoutePolicy = { kinds: ['runner'] };
/** Assets: read by anyone who can read the repository (anonymous too, when it is public). */
const ASSET_READ: RoutePolicy = { kinds: ['session', 'pat', 'api_key', 'ci_job'], scope: 'repo:read', repoRole: 'read', anonymous: true };
const ASSET_WRITE: RoutePolicy = { kinds: ['session', 'pat', 'api_key', 'ci_job'], scope: 'assets:write', repoRole: 'write' };

/**
 * The route → credential, scope and repository-role matrix, enforced in one place (AuthGuard) and
 * documented in the README. Keys are `METHOD path-template` as Fastify registers them.
 */
export const ROUTE_POLICIES: Record<string, RoutePolicy> = {
  'GET /healthz': PUBLIC,
  'GET /readyz': PUBLIC,
  'GET /.well-known/jwks.json': PUBLIC,
  'GET /api/v1/openapi.json': PUBLIC,
  'GET /api/v1/events/schema': PUBLIC,
  'POST /api/v1/auth/login': PUBLIC_LIMITED,
  'POST /api/v1/install-tokens/exchange': PUBLIC_LIMITED,
  'POST /api/v1/credentials/revoke': PUBLIC_LIMITED,
  /** The `gantry` CLI's install script and package (anyone may install it; rate-limited per IP). */
  'GET /cli/install.sh': PUBLIC_LIMITED,
  'GET /cli/download': PUBLIC_LIMITED,
  'POST /api/v1/auth/logout': { sessionOnly: true },
  'GET /api/v1/user': ANY_CREDENTIAL,
  'PUT /api/v1/user/password': { sessionOnly: true },

  'POST /api/v1/user/tokens': { sessionOnly: true, scope: 'tokens:manage' },
  'GET /api/v1/user/tokens': { scope: 'tokens:manage' },
  'GET /api/v1/user/tokens/:id': { scope: 'tokens:manage' },
  'DELETE /api/v1/user/tokens/:id': { scope: 'tokens:manage' },
  'POST /api/v1/user/tokens/:id/rotate': { sessionOnly: true, scope: 'tokens:manage' },
  'GET /api/v1/admin/tokens': { scope: 'users:admin' },
  'GET /api/v1/audit': { scope: 'users:admin' },
  'DELETE /api/v1/admin/tokens/:id': { scope: 'users:admin' },

  'GET /api/v1/users': { scope: 'users:admin' },
  'POST /api/v1/users': { scope: 'users:admin' },
  'GET /api/v1/users/:id': { scope: 'users:admin' },
  'PATCH /api/v1/users/:id': { scope: 'users:admin' },
  'DELETE /api/v1/users/:id': { scope: 'users:admin' },
  'POST /api/v1/users/:id/deactivate': { scope: 'users:admin' },
  'POST /api/v1/users/:id/activate': { scope: 'users:admin' },
  'PUT /api/v1/users/:id/password': { scope: 'users:admin' },

  'GET /api/v1/repos': { scope: 'repo:read' },
  'POST /api/v1/repos': { scope: 'repo:write' },
  'GET /api/v1/repos/:owner/:repo': { kinds: REPO_READERS, scope: 'repo:read', repoRole: 'read' },
  'PATCH /api/v1/repos/:owner/:repo': { scope: 'repo:write', repoRole: 'admin' },
  'DELETE /api/v1/repos/:owner/:repo': { scope: 'repo:write', repoRole: 'admin' },
  'GET /api/v1/repos/:owner/:repo/members': { kinds: REPO_READERS, scope: 'repo:read', repoRole: 'read' },
  'PUT /api/v1/repos/:owner/:repo/members/:username': { scope: 'repo:write', repoRole: 'admin' },
  'DELETE /api/v1/repos/:owner/:repo/members/:username': { scope: 'repo:write', repoRole: 'admin' },
  'POST /api/v1/repos/:owner/:repo/keys': { scope: 'repo:write', repoRole: 'admin' },
  'GET /api/v1/repos/:owner/:repo/keys': { scope: 'repo:write', repoRole: 'admin' },
  'DELETE /api/v1/repos/:owner/:repo/keys/:id': { scope: 'repo:write', repoRole: 'admin' },

  'POST /api/v1/install-tokens': { scope: 'runners:manage' },
  'GET /api/v1/install-tokens': { scope: 'runners:manage' },
  'DELETE /api/v1/install-tokens/:id': { scope: 'runners:manage' },
  'GET /api/v1/runners': { scope: 'runners:manage' },
  'GET /api/v1/runners/:id': { scope: 'runners:manage' },
  'DELETE /api/v1/runners/:id': { scope: 'runners:manage' },
  'POST /api/v1/runners/:id/rotate': { scope: 'runners:manage' },
  'GET /api/v1/runner': RUNNER_ONLY,
  'POST /api/v1/runner/heartbeat': RUNNER_ONLY,
  'POST /api/v1/runner/runs/claim': RUNNER_ONLY,
  'POST /api/v1/runner/runs/:id/log': RUNNER_ONLY,
  'POST /api/v1/runner/runs/:id/finish': RUNNER_ONLY,

  'GET /api/v1/jobs': { scope: 'repo:read' },
  'GET /api/v1/repos/:owner/:repo/jobs': { kinds: CI_CALLERS, scope: 'repo:read', repoRole: 'read' },
  'GET /api/v1/repos/:owner/:repo/jobs/:job': { kinds: CI_CALLERS, scope: 'repo:read', repoRole: 'read' },
  'PUT /api/v1/repos/:owner/:repo/jobs/:job': { scope: 'repo:write', repoRole: 'write' },
  'DELETE /api/v1/repos/:owner/:repo/jobs/:job': { scope: 'repo:write', repoRole: 'write' },
  'POST /api/v1/repos/:owner/:repo/jobs/:job/runs': { kinds: CI_CALLERS, scope: 'runs:write', repoRole: 'write' },
  'GET /api/v1/repos/:owner/:repo/runs': { kinds: CI_CALLERS, scope: 'repo:read', repoRole: 'read' },
  'GET /api/v1/runs/:id': RUN_READ,
  'GET /api/v1/runs/:id/log': RUN_READ,
  'GET /api/v1/runs/:id/events': RUN_READ,
  'GET /api/v1/repos/:owner/:repo/assets': ASSET_READ,
  'GET /api/v1/repos/:owner/:repo/assets/*': ASSET_READ,
  'PUT /api/v1/repos/:owner/:repo/assets/*': ASSET_WRITE,
  'DELETE /api/v1/repos/:owner/:repo/assets/*': ASSET_WRITE,
  'POST /api/v1/runs/:id/cancel': { kinds: CI_CALLERS, scope: 'runs:write', repoRole: 'write', repoOf: 'run' },

  /** The web console (apps/web), served by the gateway; it calls the API above with its cookie. */
  'GET /': CONSOLE_PUBLIC,
  'GET /login': CONSOLE_PUBLIC,
  'GET /static/*': CONSOLE_PUBLIC,
  'GET /console': { kinds: ['session'], page: 'user', console: true },
  'GET /console/*': { kinds: ['session'], page: 'user', console: true },
  'GET /console/admin/*': { kinds: ['session'], page: 'admin', console: true },
  'POST /console/login': { public: true, anonymousLimit: true, console: true },
  'POST /console/logout': { sessionOnly: true, console: true },
};

/** The table by method, then path template: looked up on every request without building a key. */
const POLICIES_BY_METHOD = new Map<string, Map<string, RoutePolicy>>();
for (const [route, policy] of Object.entries(ROUTE_POLICIES)) {
  const [method, url] = route.split(' ');
  if (!POLICIES_BY_METHOD.has(method)) POLICIES_BY_METHOD.set(method, new Map());
  POLICIES_BY_METHOD.get(method)!.set(url, policy);
}

export function policyFor(method: string, url: string | undefined): RoutePolicy | undefined {
  if (url === undefined) return undefined;
  return POLICIES_BY_METHOD.get(method === 'HEAD' ? 'GET' : method)?.get(url);
}

/** Routes registered without a policy, and policies naming no route: both are mistakes. */
export function policyGaps(registered: string[]): { unguarded: string[]; stale: string[] } {
  const routes = new Set(registered);
  return {
    unguarded: registered.filter((route) => !(route in ROUTE_POLICIES)),
    stale: Object.keys(ROUTE_POLICIES).filter((route) => !routes.has(route)),
  };
}
