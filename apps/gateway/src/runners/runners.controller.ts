import { Controller, Delete, Get, HttpCode, Post } from '@nestjs/common';
import { IdentityRequests, type Principal } from '#contracts';
import { RpcClient, type RequestContext } from '#platform';
import { Context, CurrentPrincipal } from '../auth/principal';
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
  revoke(@IdParam() id: string, @Context() context: RequestContext) {
    return this.rpc.request(R.revoke, { id }, context);
  }

  @Post(':id/rotate')
  @HttpCode(200)
  rotate(@IdParam() id: string, @Context() context: RequestContext) {
    return this.rpc.request(R.rotate, { id }, context);
  }
}

/** The runner API, for runner tokens only (the run-claiming API comes with CI). */
@Controller('/api/v1/runner')
export class RunnerApiController {
  constructor(private readonly rpc: RpcClient) {}

  @Get()
  whoami(@CurrentPrincipal() runner: Principal) {
    return this.rpc.request(R.get, { id: runner.credentialId });
  }

  @Post('heartbeat')
  @HttpCode(200)
  heartbeat(@CurrentPrincipal() runner: Principal) {
    return this.rpc.request(R.heartbeat, { id: runner.credentialId });
  }
}
