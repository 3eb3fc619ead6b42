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

  /** Wrong passwords for one username from one IP back off exponentially (429 + Retry-After). */
  @Post('/api/v1/auth/login')
  @HttpCode(200)
  async login(@Body(new ZodPipe(LoginBodySchema)) body: LoginBody, @Req() request: FastifyRequest) {
    const ip = request.ip;
    this.limits.login.check(body.username, ip);
    try {
      const session = await this.rpc.request(IdentityRequests.login, body, requestContextOf(request));
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
  async logout(@Req() request: FastifyRequest): Promise<void> {
    await this.rpc.request(IdentityRequests.logout, { sessionId: principalOf(request).credentialId }, requestContextOf(request));
  }

  /** The public keys that verify session tokens, for anyone who wants to check one. */
  @Get('/.well-known/jwks.json')
  jwks() {
    return this.sessions.publicKeys();
  }
}
