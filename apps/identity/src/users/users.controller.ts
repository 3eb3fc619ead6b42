import { Controller } from '@nestjs/common';
import { Ctx, NatsContext, Payload } from '@nestjs/microservices';
import { IdentityRequests, type RequestOf } from '#contracts';
import { fromHeaders, RpcHandler } from '#platform';
import { UsersQueries } from './users.queries';
import { UsersService } from './users.service';

const Users = IdentityRequests.users;

/** Thin NATS adapter for user administration; payloads arrive parsed by RpcHandler. */
@Controller()
export class UsersController {
  constructor(
    private readonly users: UsersService,
    private readonly queries: UsersQueries,
  ) {}

  @RpcHandler(Users.list)
  list(@Payload() page: RequestOf<typeof Users.list>) {
    return this.queries.list(page);
  }

  @RpcHandler(Users.create)
  create(@Payload() body: RequestOf<typeof Users.create>, @Ctx() ctx: NatsContext) {
    return this.users.create(body, fromHeaders(ctx.getHeaders()));
  }

  @RpcHandler(Users.get)
  get(@Payload() { userId }: RequestOf<typeof Users.get>) {
    return this.queries.get(userId);
  }

  @RpcHandler(Users.update)
  update(@Payload() { userId, changes }: RequestOf<typeof Users.update>, @Ctx() ctx: NatsContext) {
    return this.users.update(userId, changes, fromHeaders(ctx.getHeaders()));
  }

  @RpcHandler(Users.delete)
  async delete(@Payload() { userId }: RequestOf<typeof Users.delete>, @Ctx() ctx: NatsContext) {
    await this.users.delete(userId, fromHeaders(ctx.getHeaders()));
    return {};
  }

  @RpcHandler(Users.setPassword)
  async setPassword(@Payload() { userId, password }: RequestOf<typeof Users.setPassword>, @Ctx() ctx: NatsContext) {
    await this.users.setPassword(userId, password, null, fromHeaders(ctx.getHeaders()));
    return {};
  }

  @RpcHandler(Users.changePassword)
  async changePassword(@Payload() body: RequestOf<typeof Users.changePassword>, @Ctx() ctx: NatsContext) {
    await this.users.changeOwnPassword(body.userId, body.sessionId, body.currentPassword, body.newPassword, fromHeaders(ctx.getHeaders()));
    return {};
  }
}
