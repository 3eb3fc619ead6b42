import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Put, Query, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { CreateUserBodySchema, IdentityRequests, PageQuerySchema, SetPasswordBodySchema, UpdateUserBodySchema, type CreateUserBody, type PageQuery, type UpdateUserBody } from '#contracts';
import { RpcClient } from '#platform';
import { requestContextOf } from '../auth/principal';
import { IdParam } from '../http/params';
import { ZodPipe } from '../http/zod-body.pipe';

const Users = IdentityRequests.users;

/** User administration (scope users:admin). */
@Controller('/api/v1/users')
export class UsersController {
  constructor(private readonly rpc: RpcClient) {}

  @Get()
  list(@Query(new ZodPipe(PageQuerySchema)) page: PageQuery) {
    return this.rpc.request(Users.list, page);
  }

  @Post()
  create(@Body(new ZodPipe(CreateUserBodySchema)) body: CreateUserBody, @Req() request: FastifyRequest) {
    return this.rpc.request(Users.create, body, requestContextOf(request));
  }

  @Get(':id')
  get(@IdParam() userId: string) {
    return this.rpc.request(Users.get, { userId });
  }

  @Patch(':id')
  update(@IdParam() userId: string, @Body(new ZodPipe(UpdateUserBodySchema)) changes: UpdateUserBody, @Req() request: FastifyRequest) {
    return this.rpc.request(Users.update, { userId, changes }, requestContextOf(request));
  }

  @Delete(':id')
  @HttpCode(204)
  async delete(@IdParam() userId: string, @Req() request: FastifyRequest): Promise<void> {
    await this.rpc.request(Users.delete, { userId }, requestContextOf(request));
  }

  @Post(':id/deactivate')
  @HttpCode(200)
  deactivate(@IdParam() userId: string, @Req() request: FastifyRequest) {
    return this.rpc.request(Users.update, { userId, changes: { active: false } }, requestContextOf(request));
  }

  @Post(':id/activate')
  @HttpCode(200)
  activate(@IdParam() userId: string, @Req() request: FastifyRequest) {
    return this.rpc.request(Users.update, { userId, changes: { active: true } }, requestContextOf(request));
  }

  @Put(':id/password')
  @HttpCode(204)
  async setPassword(@IdParam() userId: string, @Body(new ZodPipe(SetPasswordBodySchema)) body: { password: string }, @Req() request: FastifyRequest): Promise<void> {
    await this.rpc.request(Users.setPassword, { userId, password: body.password }, requestContextOf(request));
  }
}
