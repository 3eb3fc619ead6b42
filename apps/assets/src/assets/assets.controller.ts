import { Controller } from '@nestjs/common';
import { Ctx, NatsContext, Payload } from '@nestjs/microservices';
import { AssetsRequests, type RequestOf } from '#contracts';
import { fromHeaders, RpcHandler } from '#platform';
import { UploadsService } from '../uploads/uploads.service';
import { AssetsService } from './assets.service';

const R = AssetsRequests;

/** NATS adapter for assets: the gateway authorizes, streams the bytes itself, then finalizes here. */
@Controller()
export class AssetsController {
  constructor(
    private readonly uploads: UploadsService,
    private readonly assets: AssetsService,
  ) {}

  @RpcHandler(R.authorizeUpload)
  authorizeUpload(@Payload() request: RequestOf<typeof R.authorizeUpload>, @Ctx() ctx: NatsContext) {
    return this.uploads.authorize(request, fromHeaders(ctx.getHeaders()));
  }

  /** The actor in the headers (the uploader, as the gateway authenticated it) goes on the event. */
  @RpcHandler(R.completeUpload)
  completeUpload(@Payload() { uploadId, size, sha256 }: RequestOf<typeof R.completeUpload>, @Ctx() ctx: NatsContext) {
    return this.uploads.complete(uploadId, size, sha256, fromHeaders(ctx.getHeaders()));
  }

  @RpcHandler(R.abortUpload)
  async abortUpload(@Payload() { uploadId }: RequestOf<typeof R.abortUpload>) {
    await this.uploads.abort(uploadId);
    return {};
  }

  @RpcHandler(R.authorizeDownload)
  authorizeDownload(@Payload() { repoId, path }: RequestOf<typeof R.authorizeDownload>) {
    return this.assets.authorizeDownload(repoId, path);
  }

  @RpcHandler(R.delete)
  async delete(@Payload() { repoId, path }: RequestOf<typeof R.delete>, @Ctx() ctx: NatsContext) {
    await this.assets.delete(repoId, path, fromHeaders(ctx.getHeaders()));
    return {};
  }

  @RpcHandler(R.list)
  list(@Payload() query: RequestOf<typeof R.list>) {
    return this.assets.list(query);
  }
}
