import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import { IdentityRequests, LoginBodySchema, type LoginBody } from '#contracts';
import { RpcClient, type RequestContext } from '#platform';
import { Context } from '../auth/principal';
import { Public } from '../auth/public.decorator';
import { SessionVerifier } from '../auth/session-verifier';
import { ZodPipe } from '../http/zod-body.pipe';

@Controller()
export class AuthController {
  constructor(
    private readonly rpc: RpcClient,
    private readonly sessions: SessionVerifier,
  ) {}

  @Public()
  @Post('/api/v1/auth/login')
  @HttpCode(200)
  login(@Body(new ZodPipe(LoginBodySchema)) body: LoginBody, @Context() context: RequestContext) {
    return this.rpc.request(IdentityRequests.login, body, context);
  }

  /** The public keys that verify session tokens, for anyone who wants to check one. */
  @Public()
  @Get('/.well-known/jwks.json')
  jwks() {
    return this.sessions.publicKeys();
  }
}
