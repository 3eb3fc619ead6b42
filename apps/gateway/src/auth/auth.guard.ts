import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { GantryError, httpStatusOf, type Principal } from '#contracts';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config';
import { cookieValue, csrfMatches, CSRF_HEADER, SESSION_COOKIE } from '../console/cookies';
import { sameOrigin } from '../console/origin';
import { RateLimits } from '../http/rate-limits.service';
import { Authenticator } from './authenticator';
import { RepoAccess, type RepoGrant } from './repo-access';
import { RunLocator } from './run-locator';
import { policyFor, USER_KINDS, type RoutePolicy } from './route-policy';

declare module 'fastify' {
  interface FastifyRequest {
    repoGrant?: RepoGrant;
  }
}

/**
 * The one global guard: authenticates every route not marked public in ROUTE_POLICIES, then
 * enforces the route's credential kinds, scope and repository role. A route without a policy is
 * refused (fail closed).
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly authenticator: Authenticator,
    private readonly repoAccess: RepoAccess,
    private readonly runs: RunLocator,
    private readonly limits: RateLimits,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
  ) {
    this.publicOrigin = new URL(config.GANTRY_PUBLIC_URL).origin;
  }

  private readonly publicOrigin: string;

  /** Synchronous for a cached credential on a route without a repository (the hot path). */
  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const route = request.routeOptions.url;
    const policy = policyFor(request.method, route);
    if (!policy) throw new GantryError('forbidden', 'no access policy for this route');
    if (policy.public) {
      if (policy.anonymousLimit) this.limits.anonymous(route!, request.ip);
      return true;
    }
    if (policy.page) return this.admitPage(request);
    if (policy.anonymous && !hasCredential(request)) {
      this.limits.anonymous('anonymous', request.ip);
      return this.admitToRepo(request, policy, null);
    }
    // A bearer request skips this at the first comparison; only cookie requests that change state pay.
    if (request.method !== 'GET' && request.method !== 'HEAD' && request.headers.authorization === undefined) this.checkCsrf(request);
    const principal = this.authenticateLimited(request);
    return principal instanceof Promise
      ? principal.then((resolved) => this.admit(request, policy, resolved))
      : this.admit(request, policy, principal);
  }

  private admit(request: FastifyRequest, policy: RoutePolicy, principal: Principal): boolean | Promise<boolean> {
    request.principal = principal;
    this.limits.credential(principal.credentialId);
    if (!policy.repoRole) {
      authorize(principal, policy);
      return true;
    }
    return this.admitToRepo(request, policy, principal);
  }

  /** `principal` null: an anonymous caller on a route that allows one (public repositories only). */
  private async admitToRepo(request: FastifyRequest, policy: RoutePolicy, principal: Principal | null): Promise<boolean> {
    const { owner, repo, repoId } = policy.repoOf === 'run' ? await this.runs.locate(request) : { ...(request.params as { owner: string; repo: string }), repoId: null };
    const lookup = () => this.repoAccess.lookup(principal, owner, repo, repoId);
    // A bound credential on another repository learns that first (wrong_repository or 404).
    if (principal?.repoId != null) request.repoGrant = await lookup();
    if (principal) authorize(principal, policy);
    request.repoGrant ??= await lookup();
    this.repoAccess.requireRole(request.repoGrant, policy.repoRole!);
    return true;
  }

  /**
   * A console page: the session cookie (or any session) is resolved when there is one, and a
   * missing, expired or refused one leaves the request anonymous: the page answers with a redirect.
   */
  private async admitPage(request: FastifyRequest): Promise<boolean> {
    if (!hasCredential(request)) return true;
    try {
      const principal = await this.authenticateLimited(request);
      if (principal.kind === 'session') request.principal = principal;
    } catch (error) {
      if (!(error instanceof GantryError && httpStatusOf(error.code) === 401)) throw error;
    }
    return true;
  }

  /**
   * A state-changing request authenticated by the console's cookie must come from the console's
   * origin and carry the session's CSRF token in X-CSRF-Token (signed double-submit, cookies.ts).
   */
  private checkCsrf(request: FastifyRequest): void {
    if (request.headers['x-gantry-key'] !== undefined) return;
    const jwt = cookieValue(request.headers.cookie, SESSION_COOKIE);
    if (jwt === null) return;
    if (!sameOrigin(request, this.publicOrigin)) throw new GantryError('forbidden', 'cross-origin request refused: Origin must be this console');
    if (!csrfMatches(jwt, request.headers[CSRF_HEADER] as string | undefined)) throw new GantryError('forbidden', 'missing or wrong CSRF token (X-CSRF-Token): reload the console');
  }

  /**
   * Failed authentications count against the client IP: guessing tokens gets a 429, and once over
   * the budget a credential that is not cached is refused before identity is asked (Authenticator).
   */
  private authenticateLimited(request: FastifyRequest): Principal | Promise<Principal> {
    try {
      const principal = this.authenticator.authenticate(request.headers, request.ip);
      return principal instanceof Promise ? principal.catch((error: unknown) => this.countFailure(request, error)) : principal;
    } catch (error) {
      return this.countFailure(request, error);
    }
  }

  private countFailure(request: FastifyRequest, error: unknown): never {
    if (error instanceof GantryError && httpStatusOf(error.code) === 401) this.limits.authFailed(request.ip);
    throw error;
  }
}

/** Whether the request carries a credential (valid or not): then it must authenticate. */
function hasCredential(request: FastifyRequest): boolean {
  return request.headers.authorization !== undefined || request.headers['x-gantry-key'] !== undefined || cookieValue(request.headers.cookie, SESSION_COOKIE) !== null;
}

export function authorize(principal: Principal, policy: RoutePolicy): void {
  if (policy.sessionOnly && principal.kind !== 'session') {
    throw new GantryError('session_required', 'this needs a login session, not a token');
  }
  if (!(policy.kinds ?? USER_KINDS).includes(principal.kind)) {
    throw new GantryError('forbidden', `a ${principal.kind} credential cannot call this route`);
  }
  if (policy.scope && !principal.scopes.includes(policy.scope)) {
    throw new GantryError('forbidden', `this credential lacks the ${policy.scope} scope`);
  }
}
