import { Inject, Injectable, type ExecutionContext } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { GantryError, LoginBodySchema } from '#contracts';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config';
import { ZodPipe } from '../http/zod-body.pipe';
import { sameOrigin } from './origin';

const loginBody = new ZodPipe(LoginBodySchema);

/**
 * Runs the passport `local` strategy on the console's sign-in route, after two checks passport
 * would not make: the body is exactly the login contract (400 naming the field, as the API login),
 * and the request comes from the console's own origin (no login CSRF from another site).
 */
@Injectable()
export class LocalAuthGuard extends AuthGuard('local') {
  private readonly publicOrigin: string;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    super();
    this.publicOrigin = new URL(config.GANTRY_PUBLIC_URL).origin;
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    if (!sameOrigin(request, this.publicOrigin)) throw new GantryError('forbidden', 'sign-in from another origin refused (Origin must be this console)');
    request.body = loginBody.transform(request.body);
    return (await super.canActivate(context)) as boolean;
  }

  /** passport-local's own refusal (a missing field) never happens after the body check; errors pass through as they are. */
  override handleRequest<T>(error: unknown, user: T): T {
    if (error) throw error;
    if (!user) throw new GantryError('invalid_credentials', 'wrong username or password');
    return user;
  }
}
