import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { GantryError, type Principal } from '#contracts';
import { Authenticator } from './authenticator';
import { RepoAccess, type RepoGrant } from './repo-access';
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
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const policy = policyFor(request.method, request.routeOptions.url);
    if (!policy) throw new GantryError('forbidden', 'no access policy for this route');
    if (policy.public) return true;
    const principal = await this.authenticator.authenticate(request.headers, request.ip);
    request.principal = principal;
    authorize(principal, policy);
    if (policy.repoRole) {
      const params = request.params as { owner: string; repo: string };
      request.repoGrant = await this.repoAccess.require(principal, params.owner, params.repo, policy.repoRole);
    }
    return true;
  }
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
