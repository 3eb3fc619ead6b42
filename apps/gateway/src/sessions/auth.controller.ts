import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import { IdentityRequests, LoginBodySchema, type LoginBody, type Principal } from '#contracts';
import { RpcClient, type RequestContext } from '#platform';
import { Context, CurrentPrincipal } from '../auth/principal';
import { SessionVerifier } from '../auth/session-verifier';
import { ZodPipe } from '../http/zod-body.pipe';

@Controller()
export class AuthController {
  constructor(
    private readonly rpc: RpcClient,
    private readonly sessions: SessionVerifier,
  ) {}

  @Post('/api/v1/auth/login')
  @HttpCode(200)
  login(@Body(new ZodPipe(LoginBodySchema)) body: LoginBody, @Context() context: RequestContext) {
    return this.rpc.request(IdentityRequests.login, body, context);
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
