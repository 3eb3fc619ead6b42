import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { CreateApiKeyBodySchema, CreateRepoBodySchema, IdentityRequests, PutMemberBodySchema, UpdateRepoBodySchema, type Principal } from '#contracts';
import { RpcClient, type RequestContext } from '#platform';
import { Context, CurrentPrincipal } from '../auth/principal';
import { IdParam } from '../http/params';
import { ZodPipe } from '../http/zod-body.pipe';

const Repos = IdentityRequests.repos;

/** The repository the guard resolved and authorized for this request. */
function repoOf(request: FastifyRequest) {
  if (!request.repoGrant) throw new Error('repository route without a repoRole policy');
  return request.repoGrant.repo;
}

@Controller('/api/v1/repos')
export class ReposController {
  constructor(private readonly rpc: RpcClient) {}

  @Post()
  create(@Body(new ZodPipe(CreateRepoBodySchema)) body: z.infer<typeof CreateRepoBodySchema>, @CurrentPrincipal() me: Principal, @Context() context: RequestContext) {
    return this.rpc.request(Repos.create, { ...body, ownerId: me.userId! }, context);
  }

  @Get()
  list(@CurrentPrincipal() me: Principal) {
    return this.rpc.request(Repos.list, { caller: { userId: me.userId, instanceAdmin: me.role === 'admin' && me.repoId === null, boundRepoId: me.repoId } });
  }

  @Get(':owner/:repo')
  get(@Req() request: FastifyRequest) {
    return repoOf(request);
  }

  @Patch(':owner/:repo')
  update(@Req() request: FastifyRequest, @Body(new ZodPipe(UpdateRepoBodySchema)) changes: z.infer<typeof UpdateRepoBodySchema>, @Context() context: RequestContext) {
    return this.rpc.request(Repos.update, { repoId: repoOf(request).id, changes }, context);
  }

  @Delete(':owner/:repo')
  @HttpCode(204)
  async delete(@Req() request: FastifyRequest, @Context() context: RequestContext): Promise<void> {
    await this.rpc.request(Repos.delete, { repoId: repoOf(request).id }, context);
  }

  @Get(':owner/:repo/members')
  members(@Req() request: FastifyRequest) {
    return this.rpc.request(Repos.members, { repoId: repoOf(request).id });
  }

  @Put(':owner/:repo/members/:username')
  putMember(@Req() request: FastifyRequest, @Param('username') username: string, @Body(new ZodPipe(PutMemberBodySchema)) body: { role: 'read' | 'write' | 'admin' }, @Context() context: RequestContext) {
    return this.rpc.request(Repos.putMember, { repoId: repoOf(request).id, username, role: body.role }, context);
  }

  @Post(':owner/:repo/keys')
  createKey(@Req() request: FastifyRequest, @Body(new ZodPipe(CreateApiKeyBodySchema)) body: z.infer<typeof CreateApiKeyBodySchema>, @Context() context: RequestContext) {
    return this.rpc.request(IdentityRequests.apiKeys.create, { ...body, repoId: repoOf(request).id }, context);
  }

  @Get(':owner/:repo/keys')
  listKeys(@Req() request: FastifyRequest) {
    return this.rpc.request(IdentityRequests.apiKeys.list, { repoId: repoOf(request).id });
  }

  @Delete(':owner/:repo/keys/:id')
  revokeKey(@Req() request: FastifyRequest, @IdParam() id: string, @Context() context: RequestContext) {
    return this.rpc.request(IdentityRequests.apiKeys.revoke, { repoId: repoOf(request).id, id }, context);
  }

  @Delete(':owner/:repo/members/:username')
  @HttpCode(204)
  async removeMember(@Req() request: FastifyRequest, @Param('username') username: string, @Context() context: RequestContext): Promise<void> {
    await this.rpc.request(Repos.removeMember, { repoId: repoOf(request).id, username }, context);
  }
}
