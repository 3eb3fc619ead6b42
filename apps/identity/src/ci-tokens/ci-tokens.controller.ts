import { Controller } from '@nestjs/common';
import { Ctx, NatsContext, Payload } from '@nestjs/microservices';
import { IdentityRequests, type RequestOf } from '#contracts';
import { fromHeaders, RpcHandler } from '#platform';
import { CiTokensService } from './ci-tokens.service';

const C = IdentityRequests.ciTokens;

/** NATS adapter for CI job tokens: the ci-runner asks for a run's token as the run starts. */
@Controller()
export class CiTokensController {
  constructor(private readonly ciTokens: CiTokensService) {}

  @RpcHandler(C.issue)
  issue(@Payload() request: RequestOf<typeof C.issue>, @Ctx() ctx: NatsContext) {
    return this.ciTokens.issue(request, fromHeaders(ctx.getHeaders()));
  }
}
