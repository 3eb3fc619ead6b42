import { Controller } from '@nestjs/common';
import { Ctx, NatsContext, Payload } from '@nestjs/microservices';
import { CiRequests, type RequestOf } from '#contracts';
import { fromHeaders, RpcHandler } from '#platform';
import { RunnerApiService } from './runner-api.service';

const Api = CiRequests.runner;

/** NATS adapter for the runner API (the gateway has authenticated the runner token). */
@Controller()
export class RunnerApiController {
  constructor(private readonly api: RunnerApiService) {}

  @RpcHandler(Api.claim)
  claim(@Payload() { runnerId, runnerName, labels }: RequestOf<typeof Api.claim>, @Ctx() ctx: NatsContext) {
    return this.api.claim(runnerId, runnerName, labels, fromHeaders(ctx.getHeaders()));
  }

  @RpcHandler(Api.log)
  log(@Payload() { runnerId, runId, lines }: RequestOf<typeof Api.log>) {
    return this.api.log(runnerId, runId, lines);
  }

  @RpcHandler(Api.finish)
  finish(@Payload() { runnerId, runId, status, exitCode }: RequestOf<typeof Api.finish>, @Ctx() ctx: NatsContext) {
    return this.api.finish(runnerId, runId, status, exitCode, fromHeaders(ctx.getHeaders()));
  }

  @RpcHandler(Api.heartbeat)
  heartbeat(@Payload() { runnerId }: RequestOf<typeof Api.heartbeat>) {
    return this.api.heartbeat(runnerId);
  }
}
