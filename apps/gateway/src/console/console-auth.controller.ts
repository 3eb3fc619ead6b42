import { Controller, HttpCode, Inject, Post, Req, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GantryError, IdentityRequests } from '#contracts';
import { RpcClient } from '#platform';
import { principalOf, requestContextOf } from '../auth/principal';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config';
import { clearedCookies, csrfTokenOf, SESSION_COOKIE, cookieValue, sessionCookies } from './cookies';
import { LocalAuthGuard } from './local-auth.guard';
import type { ConsoleSession } from './local.strategy';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the passport `local` strategy on the console's sign-in route. */
    user?: unknown;
  }
}

/**
 * The web console's sign-in and sign-out: the same session as the API login, carried in an
 * HttpOnly cookie instead of the answer's body (so page scripts never hold it).
 */
@Controller('/console')
export class ConsoleAuthController {
  private readonly secure: boolean;

  constructor(
    private readonly rpc: RpcClient,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
  ) {
    this.secure = new URL(config.GANTRY_PUBLIC_URL).protocol === 'https:';
  }

  /** `{username, password}` → 200 `{user, expiresAt, csrfToken}` and the two cookies. */
  @Post('login')
  @HttpCode(200)
  @UseGuards(LocalAuthGuard)
  login(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const session = request.user as ConsoleSession;
    void reply.header('set-cookie', sessionCookies(session.token, session.expiresAt, this.secure)).header('cache-control', 'no-store');
    return { user: session.user, expiresAt: session.expiresAt, csrfToken: csrfTokenOf(session.token) };
  }

  /** Ends the cookie's session at every gateway, then clears both cookies. */
  @Post('logout')
  @HttpCode(204)
  async logout(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<void> {
    if (request.headers.authorization !== undefined || cookieValue(request.headers.cookie, SESSION_COOKIE) === null) {
      throw new GantryError('invalid_request', 'the console signs out its cookie session; API clients use POST /api/v1/auth/logout');
    }
    await this.rpc.request(IdentityRequests.logout, { sessionId: principalOf(request).credentialId }, requestContextOf(request));
    void reply.header('set-cookie', clearedCookies(this.secure));
  }
}
