import { Controller } from '@nestjs/common';
import { Ctx, NatsContext, Payload } from '@nestjs/microservices';
import { IdentityRequests, type RequestOf } from '#contracts';
import { fromHeaders, RpcHandler } from '#platform';
import { ApiKeysService } from '../api-keys/api-keys.service';
import { LeakedCredentialsService } from '../auth/leaked-credentials.service';
import { InstallTokensService } from './install-tokens.service';
import { RunnersService } from './runners.service';

const R = IdentityRequests.runners;
const K = IdentityRequests.apiKeys;

/** NATS adapter for machine credentials: install tokens, runners, API keys, leak reports. */
@Controller()
export class MachineCredentialsController {
  constructor(
    private readonly installTokens: InstallTokensService,
    private readonly runners: RunnersService,
    private readonly apiKeys: ApiKeysService,
    private readonly leaked: LeakedCredentialsService,
  ) {}

  @RpcHandler(R.mintInstallToken)
  mint(@Payload() body: RequestOf<typeof R.mintInstallToken>, @Ctx() ctx: NatsContext) {
    return this.installTokens.mint(body, fromHeaders(ctx.getHeaders()));
  }

  @RpcHandler(R.listInstallTokens)
  listInstallTokens() {
    return this.installTokens.list();
  }

  @RpcHandler(R.cancelInstallToken)
  cancel(@Payload() { id }: RequestOf<typeof R.cancelInstallToken>, @Ctx() ctx: NatsContext) {
    return this.installTokens.cancel(id, fromHeaders(ctx.getHeaders()));
  }

  @RpcHandler(R.exchange)
  exchange(@Payload() { hash, runnerName, labels }: RequestOf<typeof R.exchange>, @Ctx() ctx: NatsContext) {
    return this.runners.exchange(hash, runnerName, labels, fromHeaders(ctx.getHeaders()));
  }

  @RpcHandler(R.list)
  list() {
    return this.runners.list();
  }

  @RpcHandler(R.get)
  get(@Payload() { id }: RequestOf<typeof R.get>) {
    return this.runners.get(id);
  }

  @RpcHandler(R.revoke)
  revoke(@Payload() { id }: RequestOf<typeof R.revoke>, @Ctx() ctx: NatsContext) {
    return this.runners.revoke(id, 'admin', fromHeaders(ctx.getHeaders()));
  }

  @RpcHandler(R.rotate)
  rotate(@Payload() { id }: RequestOf<typeof R.rotate>, @Ctx() ctx: NatsContext) {
    return this.runners.rotate(id, fromHeaders(ctx.getHeaders()));
  }

  @RpcHandler(R.heartbeat)
  heartbeat(@Payload() { id }: RequestOf<typeof R.heartbeat>) {
    return this.runners.heartbeat(id);
  }

  @RpcHandler(K.create)
  createKey(@Payload() request: RequestOf<typeof K.create>, @Ctx() ctx: NatsContext) {
    return this.apiKeys.create(request, fromHeaders(ctx.getHeaders()));
  }

  @RpcHandler(K.list)
  listKeys(@Payload() { repoId }: RequestOf<typeof K.list>) {
    return this.apiKeys.list(repoId);
  }

  @RpcHandler(K.revoke)
  revokeKey(@Payload() { repoId, id }: RequestOf<typeof K.revoke>, @Ctx() ctx: NatsContext) {
    return this.apiKeys.revoke(repoId, id, fromHeaders(ctx.getHeaders()));
  }

  @RpcHandler(IdentityRequests.leaked.revoke)
  async revokeLeaked(@Payload() { hashes }: RequestOf<typeof IdentityRequests.leaked.revoke>, @Ctx() ctx: NatsContext) {
    return { revoked: await this.leaked.revoke(hashes, fromHeaders(ctx.getHeaders())) };
  }
}
