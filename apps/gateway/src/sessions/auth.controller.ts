import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import { GantryError, IdentityRequests, LoginBodySchema, type LoginBody, type Principal } from '#contracts';
import { RpcClient, type RequestContext } from '#platform';
import { Context, CurrentPrincipal } from '../auth/principal';
import { SessionVerifier } from '../auth/session-verifier';
import { RateLimits } from '../http/rate-limits.service';
import { ZodPipe } from '../http/zod-body.pipe';

@Controller()
export class AuthController {
  constructor(
    private readonly rpc: RpcClient,
    private readonly sessions: SessionVerifier,
    private readonly limits: RateLimits,
  ) {}

  /** Wrong passwords for one username from one IP back off exponentially (429 + Retry-After). */
  @Post('/api/v1/auth/login')
  @HttpCode(200)
  async login(@Body(new ZodPipe(LoginBodySchema)) body: LoginBody, @Context() context: RequestContext) {
    const ip = context.ip ?? 'unknown';
    this.limits.login.check(body.username, ip);
    try {
      const session = await this.rpc.request(IdentityRequests.login, body, context);
      this.limits.login.succeeded(body.username, ip);
      return session;
    } catch (error) {
      if (error instanceof GantryError && error.code === 'invalid_credentials') this.limits.login.failed(body.username, ip);
      throw error;
    }
  }

  /** Ends the calling session at every gateway before answering. */
  @Post('/api/v1/auth/logout')
  @HttpCode(204)
  async logout(@CurrentPrincipal() principal: Principal, @Context() context: RequestContext): Promise<void> {
    await this.rpc.request(IdentityRequests.logout, { sessionId: principal.credentialId }, context);
  }

  /** The public keys that verify session tokens, for anyone who wants to check one. */
  @Get('/.well-known/jwks.json')
  jwks() {
    return this.sessions.publicKeys();
  }
}
