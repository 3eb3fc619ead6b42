import { Controller } from '@nestjs/common';
import { Ctx, NatsContext, Payload } from '@nestjs/microservices';
import { IdentityRequests, type LoginBody, type RequestOf } from '#contracts';
import { fromHeaders, RpcHandler } from '#platform';
import { CredentialResolver } from '../auth/credential-resolver';
import { TokenUsageService } from '../tokens/token-usage.service';
import { SessionsService } from './sessions.service';
import { SigningKeysService } from './signing-keys.service';

/** Thin NATS adapter for authentication; payloads arrive parsed by RpcHandler. */
@Controller()
export class SessionsController {
  constructor(
    private readonly sessions: SessionsService,
    private readonly keys: SigningKeysService,
    private readonly resolver: CredentialResolver,
    private readonly usage: TokenUsageService,
  ) {}

  @RpcHandler(IdentityRequests.login)
  login(@Payload() body: LoginBody, @Ctx() ctx: NatsContext) {
    return this.sessions.login(body, fromHeaders(ctx.getHeaders()));
  }

  @RpcHandler(IdentityRequests.logout)
  async logout(@Payload() { sessionId }: RequestOf<typeof IdentityRequests.logout>, @Ctx() ctx: NatsContext) {
    await this.sessions.logout(sessionId, fromHeaders(ctx.getHeaders()));
    return {};
  }

  @RpcHandler(IdentityRequests.jwks)
  jwks() {
    return this.keys.jwks();
  }

  @RpcHandler(IdentityRequests.resolve)
  resolve(@Payload() { credential }: RequestOf<typeof IdentityRequests.resolve>) {
    return this.resolver.resolve(credential);
  }

  @RpcHandler(IdentityRequests.touch)
  async touch(@Payload() { uses }: RequestOf<typeof IdentityRequests.touch>) {
    await this.usage.record(uses);
    return {};
  }
}
