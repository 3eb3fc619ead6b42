import { Body, Controller, Delete, Get, HttpCode, Post, Put, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ChangePasswordBodySchema, CreatePatBodySchema, GantryError, IdentityRequests, WhoAmISchema, type ChangePasswordBody, type CreatePatBody, type Principal, type WhoAmI } from '#contracts';
import { RpcClient } from '#platform';
import { principalOf, requestContextOf } from '../auth/principal';
import { IdParam } from '../http/params';
import type { PasswordAttempt } from '../http/rate-limit';
import { RateLimits } from '../http/rate-limits.service';
import { ResponseSchema } from '../http/response-schema';
import { ZodPipe } from '../http/zod-body.pipe';

const Pats = IdentityRequests.pats;

/** A cached principal is one immutable object shared by every hit: its view is built once. */
const whoamiViews = new WeakMap<Principal, WhoAmI>();

function whoamiOf(principal: Principal): WhoAmI {
  const { userId, username, role } = principal;
  return {
    kind: principal.kind,
    user: userId && username && role ? { id: userId, username, role } : null,
    repoId: principal.repoId,
    runId: principal.runId,
    scopes: principal.scopes,
    expiresAt: principal.expiresAt === null ? null : new Date(principal.expiresAt * 1000).toISOString(),
  };
}

/** The caller's own account: who am I, my password, my personal access tokens. */
@Controller('/api/v1/user')
export class UserController {
  constructor(
    private readonly rpc: RpcClient,
    private readonly limits: RateLimits,
  ) {}

  @Get()
  @ResponseSchema(WhoAmISchema)
  whoami(@Req() request: FastifyRequest): WhoAmI {
    const principal = principalOf(request);
    let view = whoamiViews.get(principal);
    if (!view) whoamiViews.set(principal, (view = whoamiOf(principal)));
    return view;
  }

  /**
   * Ends every other session of the user; this one stays. A wrong current password counts as a
   * failed login of the user (same backoff), so a stolen session is no password-guessing oracle.
   */
  @Put('password')
  @HttpCode(204)
  async changePassword(@Body(new ZodPipe(ChangePasswordBodySchema)) body: ChangePasswordBody, @Req() request: FastifyRequest): Promise<void> {
    const principal = principalOf(request);
    const attempt = this.limits.passwordAttempt(principal.username!, request.ip);
    try {
      await this.rpc.request(IdentityRequests.users.changePassword, { ...body, userId: principal.userId!, sessionId: principal.credentialId }, requestContextOf(request));
      attempt.succeeded();
    } catch (error) {
      settle(attempt, error);
      throw error;
    }
  }

  @Post('tokens')
  createToken(@Body(new ZodPipe(CreatePatBodySchema)) body: CreatePatBody, @Req() request: FastifyRequest) {
    return this.rpc.request(Pats.create, { ...body, userId: principalOf(request).userId! }, requestContextOf(request));
  }

  @Get('tokens')
  listTokens(@Req() request: FastifyRequest) {
    return this.rpc.request(Pats.list, { userId: principalOf(request).userId! });
  }

  @Get('tokens/:id')
  getToken(@IdParam() tokenId: string, @Req() request: FastifyRequest) {
    return this.rpc.request(Pats.get, { userId: principalOf(request).userId!, tokenId });
  }

  @Delete('tokens/:id')
  revokeToken(@IdParam() tokenId: string, @Req() request: FastifyRequest) {
    return this.rpc.request(Pats.revoke, { userId: principalOf(request).userId!, tokenId }, requestContextOf(request));
  }

  @Post('tokens/:id/rotate')
  rotateToken(@IdParam() tokenId: string, @Req() request: FastifyRequest) {
    return this.rpc.request(Pats.rotate, { userId: principalOf(request).userId!, tokenId }, requestContextOf(request));
  }
}

/** A wrong current password stays counted; weak_password comes after it was found right; the rest gave no verdict. */
function settle(attempt: PasswordAttempt, error: unknown): void {
  if (error instanceof GantryError && error.field === 'currentPassword') return;
  if (error instanceof GantryError && error.code === 'weak_password') return attempt.succeeded();
  attempt.cancelled();
}
