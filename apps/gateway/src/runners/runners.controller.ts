import { Controller, Delete, Get, HttpCode, Post, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { IdentityRequests } from '#contracts';
import { RpcClient } from '#platform';
import { principalOf, requestContextOf } from '../auth/principal';
import { IdParam } from '../http/params';

const R = IdentityRequests.runners;

/** Runner administration (scope runners:manage). */
@Controller('/api/v1/runners')
export class RunnersController {
  constructor(private readonly rpc: RpcClient) {}

  @Get()
  list() {
    return this.rpc.request(R.list, {});
  }

  @Get(':id')
  get(@IdParam() id: string) {
    return this.rpc.request(R.get, { id });
  }

  @Delete(':id')
  revoke(@IdParam() id: string, @Req() request: FastifyRequest) {
    return this.rpc.request(R.revoke, { id }, requestContextOf(request));
  }

  @Post(':id/rotate')
  @HttpCode(200)
  rotate(@IdParam() id: string, @Req() request: FastifyRequest) {
    return this.rpc.request(R.rotate, { id }, requestContextOf(request));
  }
}

/** The runner API, for runner tokens only (the run-claiming API comes with CI). */
@Controller('/api/v1/runner')
export class RunnerApiController {
  constructor(private readonly rpc: RpcClient) {}

  @Get()
  whoami(@Req() request: FastifyRequest) {
    return this.rpc.request(R.get, { id: principalOf(request).credentialId });
  }

  @Post('heartbeat')
  @HttpCode(200)
  heartbeat(@Req() request: FastifyRequest) {
    return this.rpc.request(R.heartbeat, { id: principalOf(request).credentialId });
  }
}
