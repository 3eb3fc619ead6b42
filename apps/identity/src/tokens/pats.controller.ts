import { Controller } from '@nestjs/common';
import { Ctx, NatsContext, Payload } from '@nestjs/microservices';
import { IdentityRequests, type RequestOf } from '#contracts';
import { fromHeaders, RpcHandler } from '#platform';
import { PatsService } from './pats.service';

const Pats = IdentityRequests.pats;

@Controller()
export class PatsController {
  constructor(private readonly pats: PatsService) {}

  @RpcHandler(Pats.create)
  create(@Payload() { userId, ...body }: RequestOf<typeof Pats.create>, @Ctx() ctx: NatsContext) {
    return this.pats.create(userId, body, fromHeaders(ctx.getHeaders()));
  }

  @RpcHandler(Pats.list)
  list(@Payload() { userId }: RequestOf<typeof Pats.list>) {
    return this.pats.list(userId);
  }

  @RpcHandler(Pats.get)
  get(@Payload() { userId, tokenId }: RequestOf<typeof Pats.get>) {
    return this.pats.get(userId, tokenId);
  }

  @RpcHandler(Pats.revoke)
  revoke(@Payload() { userId, tokenId }: RequestOf<typeof Pats.revoke>, @Ctx() ctx: NatsContext) {
    return this.pats.revoke(userId, tokenId, fromHeaders(ctx.getHeaders()));
  }

  @RpcHandler(Pats.rotate)
  rotate(@Payload() { userId, tokenId }: RequestOf<typeof Pats.rotate>, @Ctx() ctx: NatsContext) {
    return this.pats.rotate(userId, tokenId, fromHeaders(ctx.getHeaders()));
  }
}
