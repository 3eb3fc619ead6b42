import { Controller, Delete, Get, HttpCode, Post, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { CiRequests, IdentityRequests } from '#contracts';
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

  /** 201: a new runner token, as a PAT rotation creates one. */
  @Post(':id/rotate')
  @HttpCode(201)
  rotate(@IdParam() id: string, @Req() request: FastifyRequest) {
    return this.rpc.request(R.rotate, { id }, requestContextOf(request));
  }
}

/** The runner API, for runner tokens only (its run routes: RunnerRunsController). */
@Controller('/api/v1/runner')
export class RunnerApiController {
  constructor(private readonly rpc: RpcClient) {}

  @Get()
  whoami(@Req() request: FastifyRequest) {
    return this.rpc.request(R.get, { id: principalOf(request).credentialId });
  }

  /** The runner is alive, and so are its running runs; the answer says which were cancelled. */
  @Post('heartbeat')
  @HttpCode(200)
  async heartbeat(@Req() request: FastifyRequest) {
    const id = principalOf(request).credentialId;
    const [runner, { runs }] = await Promise.all([this.rpc.request(R.heartbeat, { id }), this.rpc.request(CiRequests.runner.heartbeat, { runnerId: id })]);
    return { ...runner, runs };
  }
}
