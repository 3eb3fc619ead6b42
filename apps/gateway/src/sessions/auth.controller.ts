import { Body, Controller, Get, HttpCode, Post, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { GantryError, IdentityRequests, LoginBodySchema, type LoginBody } from '#contracts';
import { RpcClient } from '#platform';
import { principalOf, requestContextOf } from '../auth/principal';
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

  /**
   * Wrong passwords back off exponentially per username + client and, past a larger budget, per
   * username across clients (429 + Retry-After). The attempt is counted before identity checks it.
   */
  @Post('/api/v1/auth/login')
  @HttpCode(200)
  async login(@Body(new ZodPipe(LoginBodySchema)) body: LoginBody, @Req() request: FastifyRequest) {
    const attempt = this.limits.passwordAttempt(body.username, request.ip);
    try {
      const session = await this.rpc.request(IdentityRequests.login, body, requestContextOf(request));
      attempt.succeeded();
      return session;
    } catch (error) {
      if (!(error instanceof GantryError && error.code === 'invalid_credentials')) attempt.cancelled();
      throw error;
    }
  }

  /** Ends the calling session at every gateway before answering. */
  @Post('/api/v1/auth/logout')
  @HttpCode(204)
  async logout(@Req() request: FastifyRequest): Promise<void> {
    await this.rpc.request(IdentityRequests.logout, { sessionId: principalOf(request).credentialId }, requestContextOf(request));
  }

  /** The public keys that verify session tokens, for anyone who wants to check one. */
  @Get('/.well-known/jwks.json')
  jwks() {
    return this.sessions.publicKeys();
  }
}
