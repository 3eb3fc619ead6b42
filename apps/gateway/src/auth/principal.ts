import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { Actor, Principal } from '#contracts';
import type { RequestContext } from '#platform';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/** The authenticated caller, set by the global AuthGuard. */
export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  const principal = ctx.switchToHttp().getRequest<FastifyRequest>().principal;
  if (!principal) throw new Error('CurrentPrincipal used on a public route');
  return principal;
});

export function actorOf(principal: Principal | undefined): Actor {
  if (!principal) return { kind: 'anonymous', id: 'anonymous', name: 'anonymous' };
  const kind = principal.kind === 'session' ? 'user' : principal.kind;
  return { kind, id: principal.userId ?? principal.credentialId, name: principal.username ?? principal.credentialId };
}

/** What the gateway tells a service about the request it forwards. */
export function requestContextOf(request: FastifyRequest): RequestContext {
  return { requestId: request.id, actor: actorOf(request.principal), ip: request.ip };
}

/** Request context as a param decorator, for controllers that forward to a service. */
export const Context = createParamDecorator((_: unknown, ctx: ExecutionContext): RequestContext =>
  requestContextOf(ctx.switchToHttp().getRequest<FastifyRequest>()),
);
