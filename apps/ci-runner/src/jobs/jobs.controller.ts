import { Controller } from '@nestjs/common';
import { Ctx, NatsContext, Payload } from '@nestjs/microservices';
import { CiRequests, type RequestOf } from '#contracts';
import { fromHeaders, RpcHandler } from '#platform';
import { JobsService } from './jobs.service';

const Jobs = CiRequests.jobs;

/** NATS adapter for job definitions. */
@Controller()
export class JobsController {
  constructor(private readonly jobs: JobsService) {}

  @RpcHandler(Jobs.put)
  put(@Payload() { repoId, repo, name, spec }: RequestOf<typeof Jobs.put>, @Ctx() ctx: NatsContext) {
    return this.jobs.put(repoId, repo, name, spec, fromHeaders(ctx.getHeaders()));
  }

  @RpcHandler(Jobs.get)
  get(@Payload() { repoId, name }: RequestOf<typeof Jobs.get>) {
    return this.jobs.get(repoId, name);
  }

  @RpcHandler(Jobs.list)
  list(@Payload() { repoIds }: RequestOf<typeof Jobs.list>) {
    return this.jobs.list(repoIds);
  }

  @RpcHandler(Jobs.delete)
  async delete(@Payload() { repoId, name }: RequestOf<typeof Jobs.delete>, @Ctx() ctx: NatsContext) {
    await this.jobs.delete(repoId, name, fromHeaders(ctx.getHeaders()));
    return {};
  }
}
