import { Controller, Delete, Get, HttpCode, Put, Query, Req, Res } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { AssetListQuerySchema, AssetsRequests, checkAssetPath, GantryError, type Asset } from '#contracts';
import { RpcClient } from '#platform';
import { requestContextOf } from '../auth/principal';
import { ZodPipe } from '../http/zod-body.pipe';
import { repoOf } from '../repos/repo-of';
import { attachment, noneMatchHits, parseRange } from './http-ranges';
import { openObject, streamToObject } from './object-transfer';

/** The asset path of a `…/assets/*` route, checked and NFC-normalised. */
function assetPath(request: FastifyRequest): string {
  const checked = checkAssetPath((request.params as { '*': string })['*'] ?? '');
  if (!checked.ok) throw new GantryError('invalid_path', `path: ${checked.reason}`, 'path');
  return checked.path;
}

/**
 * Release assets (GitLab Workhorse style): authorize over NATS, stream the bytes between the client
 * and S3 through presigned URLs (the gateway holds no S3 credentials), finalize over NATS.
 */
@Controller('/api/v1/repos/:owner/:repo/assets')
export class AssetsController {
  constructor(private readonly rpc: RpcClient) {}

  @Get()
  list(@Req() request: FastifyRequest, @Query(new ZodPipe(AssetListQuerySchema)) query: z.infer<typeof AssetListQuerySchema>) {
    return this.rpc.request(AssetsRequests.list, { ...query, repoId: repoOf(request).id });
  }

  /** The body is the file (any content type), streamed, never buffered: 201 created, 200 replaced. */
  @Put('*')
  @RouteConfig({ rawBody: true })
  async upload(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    // An early refusal must not wait for (or read) a body of gigabytes: close the connection.
    void reply.header('connection', 'close');
    const body = request.rawBody!;
    const path = assetPath(request);
    if (body.contentLength === null) throw new GantryError('length_required', 'Content-Length is required (chunked uploads are not supported)');
    const contentType = body.contentType?.trim() || 'application/octet-stream';
    const ifMatch = request.headers['if-match'] ?? null;
    const upload = await this.rpc.request(AssetsRequests.authorizeUpload, {
      repoId: repoOf(request).id, path, size: body.contentLength, contentType, ifNoneMatch: request.headers['if-none-match']?.trim() === '*', ifMatch,
    }, requestContextOf(request));
    const streamed = await streamToObject(request.raw, upload.url, body.contentLength, contentType);
    if (!streamed.ok) {
      void this.rpc.request(AssetsRequests.abortUpload, { uploadId: upload.uploadId }).catch(() => undefined);
      if (streamed.clientGone) return void request.raw.destroy();
      throw streamed.error;
    }
    const { asset, replaced } = await this.rpc.request(AssetsRequests.completeUpload, { uploadId: upload.uploadId, size: streamed.size, sha256: streamed.sha256 }, requestContextOf(request));
    void reply.removeHeader('connection').status(replaced ? 200 : 201).send(asset);
  }

  /** GET streams the bytes (a single Range → 206); HEAD answers the same headers without them. */
  @Get('*')
  async download(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const { asset, url } = await this.rpc.request(AssetsRequests.authorizeDownload, { repoId: repoOf(request).id, path: assetPath(request) });
    const range = parseRange(request.headers.range, asset.size);
    if (range === 'unsatisfiable' && !noneMatchHits(request.headers['if-none-match'], asset.etag)) {
      void reply.header('content-range', `bytes */${asset.size}`);
      throw new GantryError('range_not_satisfiable', `the range is outside the asset's ${asset.size} bytes`);
    }
    setAssetHeaders(reply, asset);
    if (noneMatchHits(request.headers['if-none-match'], asset.etag) || range === 'unsatisfiable') return void reply.status(304).send();
    const length = range ? range.end - range.start + 1 : asset.size;
    void reply.header('content-length', String(length));
    if (range) void reply.status(206).header('content-range', `bytes ${range.start}-${range.end}/${asset.size}`);
    // An empty stream, not nothing: Fastify's HEAD handling would otherwise set Content-Length: 0.
    if (request.method === 'HEAD' || length === 0) return void reply.send(Readable.from([]));
    const object = await openObject(url, range);
    return void reply.send(object.body);
  }

  @Delete('*')
  @HttpCode(204)
  async delete(@Req() request: FastifyRequest): Promise<void> {
    await this.rpc.request(AssetsRequests.delete, { repoId: repoOf(request).id, path: assetPath(request) }, requestContextOf(request));
  }
}

function setAssetHeaders(reply: FastifyReply, asset: Asset): void {
  void reply.headers({
    etag: asset.etag,
    'x-checksum-sha256': asset.sha256,
    'content-type': asset.contentType,
    'content-disposition': attachment(asset.path),
    'accept-ranges': 'bytes',
    'last-modified': new Date(asset.uploadedAt).toUTCString(),
    'cache-control': 'private, no-cache',
  });
}
