import { Controller } from '@nestjs/common';
import { Ctx, NatsContext, Payload } from '@nestjs/microservices';
import { IdentityRequests, type LoginBody } from '#contracts';
import { fromHeaders, RpcHandler } from '#platform';
import { SessionsService } from './sessions.service';
import { SigningKeysService } from './signing-keys.service';

/** Thin NATS adapter: payloads arrive parsed by RpcHandler. */
@Controller()
export class SessionsController {
  constructor(
    private readonly sessions: SessionsService,
    private readonly keys: SigningKeysService,
  ) {}

  @RpcHandler(IdentityRequests.login)
  login(@Payload() body: LoginBody, @Ctx() ctx: NatsContext) {
    return this.sessions.login(body, fromHeaders(ctx.getHeaders()));
  }

  @RpcHandler(IdentityRequests.jwks)
  jwks() {
    return this.keys.jwks();
  }
}
