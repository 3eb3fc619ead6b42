import { Controller } from '@nestjs/common';
import { Ctx, NatsContext, Payload } from '@nestjs/microservices';
import { IdentityRequests, type RequestOf } from '#contracts';
import { fromHeaders, RpcHandler } from '#platform';
import { ReposService } from './repos.service';

const Repos = IdentityRequests.repos;

@Controller()
export class ReposController {
  constructor(private readonly repos: ReposService) {}

  @RpcHandler(Repos.access)
  access(@Payload() { owner, name, caller }: RequestOf<typeof Repos.access>) {
    return this.repos.access(owner, name, caller);
  }

  @RpcHandler(Repos.create)
  create(@Payload() request: RequestOf<typeof Repos.create>, @Ctx() ctx: NatsContext) {
    return this.repos.create(request, fromHeaders(ctx.getHeaders()));
  }

  @RpcHandler(Repos.list)
  list(@Payload() { caller }: RequestOf<typeof Repos.list>) {
    return this.repos.list(caller);
  }

  @RpcHandler(Repos.update)
  update(@Payload() request: RequestOf<typeof Repos.update>, @Ctx() ctx: NatsContext) {
    return this.repos.update(request, fromHeaders(ctx.getHeaders()));
  }

  @RpcHandler(Repos.delete)
  async delete(@Payload() { repoId }: RequestOf<typeof Repos.delete>, @Ctx() ctx: NatsContext) {
    await this.repos.delete(repoId, fromHeaders(ctx.getHeaders()));
    return {};
  }

  @RpcHandler(Repos.members)
  members(@Payload() { repoId }: RequestOf<typeof Repos.members>) {
    return this.repos.members(repoId);
  }

  @RpcHandler(Repos.putMember)
  putMember(@Payload() { repoId, username, role }: RequestOf<typeof Repos.putMember>, @Ctx() ctx: NatsContext) {
    return this.repos.putMember(repoId, username, role, fromHeaders(ctx.getHeaders()));
  }

  @RpcHandler(Repos.removeMember)
  async removeMember(@Payload() { repoId, username }: RequestOf<typeof Repos.removeMember>, @Ctx() ctx: NatsContext) {
    await this.repos.removeMember(repoId, username, fromHeaders(ctx.getHeaders()));
    return {};
  }
}
