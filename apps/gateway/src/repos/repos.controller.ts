import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Put, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { CreateApiKeyBodySchema, CreateRepoBodySchema, IdentityRequests, PutMemberBodySchema, UpdateRepoBodySchema, UsernameSchema } from '#contracts';
import { RpcClient } from '#platform';
import { principalOf, requestContextOf } from '../auth/principal';
import { IdParam, ParsedParam } from '../http/params';
import { ZodPipe } from '../http/zod-body.pipe';
import { repoOf } from './repo-of';

const Repos = IdentityRequests.repos;
/** A member's username in the path: anything no username can be names nobody (404). */
const MemberParam = () => ParsedParam('username', UsernameSchema);


@Controller('/api/v1/repos')
export class ReposController {
  constructor(private readonly rpc: RpcClient) {}

  @Post()
  create(@Body(new ZodPipe(CreateRepoBodySchema)) body: z.infer<typeof CreateRepoBodySchema>, @Req() request: FastifyRequest) {
    return this.rpc.request(Repos.create, { ...body, ownerId: principalOf(request).userId! }, requestContextOf(request));
  }

  @Get()
  list(@Req() request: FastifyRequest) {
    return this.rpc.request(Repos.list, { caller: { userId: principalOf(request).userId, instanceAdmin: principalOf(request).role === 'admin' && principalOf(request).repoId === null, boundRepoId: principalOf(request).repoId } });
  }

  @Get(':owner/:repo')
  get(@Req() request: FastifyRequest) {
    return repoOf(request);
  }

  @Patch(':owner/:repo')
  update(@Req() request: FastifyRequest, @Body(new ZodPipe(UpdateRepoBodySchema)) changes: z.infer<typeof UpdateRepoBodySchema>) {
    return this.rpc.request(Repos.update, { repoId: repoOf(request).id, changes }, requestContextOf(request));
  }

  @Delete(':owner/:repo')
  @HttpCode(204)
  async delete(@Req() request: FastifyRequest): Promise<void> {
    await this.rpc.request(Repos.delete, { repoId: repoOf(request).id }, requestContextOf(request));
  }

  @Get(':owner/:repo/members')
  members(@Req() request: FastifyRequest) {
    return this.rpc.request(Repos.members, { repoId: repoOf(request).id });
  }

  @Put(':owner/:repo/members/:username')
  putMember(@Req() request: FastifyRequest, @MemberParam() username: string, @Body(new ZodPipe(PutMemberBodySchema)) body: { role: 'read' | 'write' | 'admin' }) {
    return this.rpc.request(Repos.putMember, { repoId: repoOf(request).id, username, role: body.role }, requestContextOf(request));
  }

  @Post(':owner/:repo/keys')
  createKey(@Req() request: FastifyRequest, @Body(new ZodPipe(CreateApiKeyBodySchema)) body: z.infer<typeof CreateApiKeyBodySchema>) {
    return this.rpc.request(IdentityRequests.apiKeys.create, { ...body, repoId: repoOf(request).id }, requestContextOf(request));
  }

  @Get(':owner/:repo/keys')
  listKeys(@Req() request: FastifyRequest) {
    return this.rpc.request(IdentityRequests.apiKeys.list, { repoId: repoOf(request).id });
  }

  @Delete(':owner/:repo/keys/:id')
  revokeKey(@Req() request: FastifyRequest, @IdParam() id: string) {
    return this.rpc.request(IdentityRequests.apiKeys.revoke, { repoId: repoOf(request).id, id }, requestContextOf(request));
  }

  @Delete(':owner/:repo/members/:username')
  @HttpCode(204)
  async removeMember(@Req() request: FastifyRequest, @MemberParam() username: string): Promise<void> {
    await this.rpc.request(Repos.removeMember, { repoId: repoOf(request).id, username }, requestContextOf(request));
  }
}
