import { Controller } from '@nestjs/common';
import { Ctx, NatsContext, Payload } from '@nestjs/microservices';
import { CiRequests, type RequestOf } from '#contracts';
import { fromHeaders, RpcHandler } from '#platform';
import { RunLogStore } from '../logs/run-log.store';
import { RunsService } from './runs.service';

const Runs = CiRequests.runs;

/** NATS adapter for runs. */
@Controller()
export class RunsController {
  constructor(
    private readonly runs: RunsService,
    private readonly logs: RunLogStore,
  ) {}

  @RpcHandler(Runs.trigger)
  trigger(@Payload() { repoId, repo, job, params }: RequestOf<typeof Runs.trigger>, @Ctx() ctx: NatsContext) {
    return this.runs.trigger(repoId, repo, job, params, fromHeaders(ctx.getHeaders()));
  }

  @RpcHandler(Runs.get)
  get(@Payload() { id }: RequestOf<typeof Runs.get>) {
    return this.runs.get(id);
  }

  @RpcHandler(Runs.list)
  list(@Payload() query: RequestOf<typeof Runs.list>) {
    return this.runs.list(query);
  }

  @RpcHandler(Runs.log)
  async log(@Payload() { id, afterSeq, limit }: RequestOf<typeof Runs.log>) {
    // Status first: lines stored before it was read are all in the page or after it.
    const run = await this.runs.get(id);
    return { lines: await this.logs.page(id, afterSeq, limit), status: run.status, logLines: run.logLines };
  }

  @RpcHandler(Runs.cancel)
  cancel(@Payload() { id }: RequestOf<typeof Runs.cancel>, @Ctx() ctx: NatsContext) {
    return this.runs.cancel(id, fromHeaders(ctx.getHeaders()));
  }
}
