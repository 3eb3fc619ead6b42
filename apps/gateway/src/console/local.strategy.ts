import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { Strategy } from 'passport-local';
import type { z } from 'zod';
import { GantryError, IdentityRequests, type LoginResponseSchema } from '#contracts';
import { RpcClient } from '#platform';
import { requestContextOf } from '../auth/principal';
import { RateLimits } from '../http/rate-limits.service';

export type ConsoleSession = z.infer<typeof LoginResponseSchema>;

/**
 * The console's username/password sign-in (`@nestjs/passport` + passport-local): identity checks
 * the password over NATS (`identity.auth.login`), with the same per-username and per-client
 * backoff as `POST /api/v1/auth/login`. Its result is the session JWT the global guard accepts.
 */
@Injectable()
export class LocalStrategy extends PassportStrategy(Strategy, 'local') {
  constructor(
    private readonly rpc: RpcClient,
    private readonly limits: RateLimits,
  ) {
    super({ passReqToCallback: true, session: false });
  }

  async validate(request: FastifyRequest, username: string, password: string): Promise<ConsoleSession> {
    const attempt = this.limits.passwordAttempt(username, request.ip);
    try {
      const session = await this.rpc.request(IdentityRequests.login, { username, password }, requestContextOf(request));
      attempt.succeeded();
      return session;
    } catch (error) {
      if (!(error instanceof GantryError && error.code === 'invalid_credentials')) attempt.cancelled();
      throw error;
    }
  }
}
