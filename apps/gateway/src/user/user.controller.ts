import { Body, Controller, Delete, Get, HttpCode, Post, Put } from '@nestjs/common';
import { ChangePasswordBodySchema, CreatePatBodySchema, IdentityRequests, type ChangePasswordBody, type CreatePatBody, type Principal } from '#contracts';
import { RpcClient, type RequestContext } from '#platform';
import { Context, CurrentPrincipal } from '../auth/principal';
import { IdParam } from '../http/params';
import { ZodPipe } from '../http/zod-body.pipe';

const Pats = IdentityRequests.pats;

/** The caller's own account: who am I, my password, my personal access tokens. */
@Controller('/api/v1/user')
export class UserController {
  constructor(private readonly rpc: RpcClient) {}

  @Get()
  whoami(@CurrentPrincipal() principal: Principal) {
    return {
      kind: principal.kind,
      user: principal.userId ? { id: principal.userId, username: principal.username, role: principal.role } : null,
      repoId: principal.repoId,
      runId: principal.runId,
      scopes: principal.scopes,
      expiresAt: principal.expiresAt === null ? null : new Date(principal.expiresAt * 1000).toISOString(),
    };
  }

  /** Ends every other session of the user; this one stays. */
  @Put('password')
  @HttpCode(204)
  async changePassword(@Body(new ZodPipe(ChangePasswordBodySchema)) body: ChangePasswordBody, @CurrentPrincipal() me: Principal, @Context() context: RequestContext): Promise<void> {
    await this.rpc.request(IdentityRequests.users.changePassword, { ...body, userId: me.userId!, sessionId: me.credentialId }, context);
  }

  @Post('tokens')
  createToken(@Body(new ZodPipe(CreatePatBodySchema)) body: CreatePatBody, @CurrentPrincipal() me: Principal, @Context() context: RequestContext) {
    return this.rpc.request(Pats.create, { ...body, userId: me.userId! }, context);
  }

  @Get('tokens')
  listTokens(@CurrentPrincipal() me: Principal) {
    return this.rpc.request(Pats.list, { userId: me.userId! });
  }

  @Get('tokens/:id')
  getToken(@IdParam() tokenId: string, @CurrentPrincipal() me: Principal) {
    return this.rpc.request(Pats.get, { userId: me.userId!, tokenId });
  }

  @Delete('tokens/:id')
  revokeToken(@IdParam() tokenId: string, @CurrentPrincipal() me: Principal, @Context() context: RequestContext) {
    return this.rpc.request(Pats.revoke, { userId: me.userId!, tokenId }, context);
  }

  @Post('tokens/:id/rotate')
  rotateToken(@IdParam() tokenId: string, @CurrentPrincipal() me: Principal, @Context() context: RequestContext) {
    return this.rpc.request(Pats.rotate, { userId: me.userId!, tokenId }, context);
  }
}
