import { z } from 'zod';
import { ActorSchema } from '../envelope';
import { defineRequest } from '../kernel';
import { PingResponseSchema } from '../health';
import { cursorString, pageOf } from '../pagination';
import { storableString } from '../strings';
import { checkAssetPath } from './paths';

/** A path already checked and normalised by checkAssetPath (services check again on receipt). */
export const AssetPathSchema = z.string().refine((path) => {
  const checked = checkAssetPath(path);
  return checked.ok && checked.path === path;
}, 'not a valid asset path');

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/);
const at = z.iso.datetime({ offset: true });

/** An asset as the API shows it (its bytes are in S3, streamed by the gateway). */
export const AssetSchema = z.strictObject({
  path: z.string(),
  size: z.number().int().min(0),
  sha256: Sha256,
  contentType: z.string(),
  /** Strong ETag (quoted): changes whenever the content does. */
  etag: z.string(),
  uploadedBy: ActorSchema,
  uploadedAt: at,
});
export type Asset = z.infer<typeof AssetSchema>;

export const AssetListQuerySchema = z.strictObject({
  prefix: storableString().max(1024).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: cursorString(2000).optional(),
});

const Ref = { repoId: z.uuid(), path: AssetPathSchema };

export const AssetsRequests = {
  ping: defineRequest('assets.health.ping.v1', {
    request: z.strictObject({}),
    response: PingResponseSchema,
  }),
  /**
   * Checks the limits and the preconditions, and hands out a presigned PUT for a new object of its
   * own (one per upload: nothing is overwritten in S3 until the upload is complete).
   */
  authorizeUpload: defineRequest('assets.upload.authorize.v1', {
    request: z.strictObject({
      ...Ref,
      size: z.number().int().min(0),
      contentType: storableString().min(1).max(255),
      /** `If-None-Match: *`: only if the path is free. */
      ifNoneMatch: z.boolean(),
      /** `If-Match: <etag>`: only if the current asset has this ETag. */
      ifMatch: storableString().max(200).nullable(),
    }),
    response: z.strictObject({ uploadId: z.uuid(), url: z.url(), expiresAt: at }),
  }),
  /** The bytes are in S3: check their size and record the asset (201 created / 200 replaced). */
  completeUpload: defineRequest('assets.upload.complete.v1', {
    request: z.strictObject({ uploadId: z.uuid(), size: z.number().int().min(0), sha256: Sha256 }),
    response: z.strictObject({ asset: AssetSchema, replaced: z.boolean() }),
  }),
  /** The body never arrived whole: forget the upload and its object. */
  abortUpload: defineRequest('assets.upload.abort.v1', { request: z.strictObject({ uploadId: z.uuid() }), response: z.strictObject({}) }),
  /** The asset and a short-lived presigned GET for its bytes. */
  authorizeDownload: defineRequest('assets.download.authorize.v1', {
    request: z.strictObject(Ref),
    response: z.strictObject({ asset: AssetSchema, url: z.url() }),
  }),
  delete: defineRequest('assets.asset.delete.v1', { request: z.strictObject(Ref), response: z.strictObject({}) }),
  list: defineRequest('assets.asset.list.v1', { request: AssetListQuerySchema.extend({ repoId: z.uuid() }), response: pageOf(AssetSchema) }),
} as const;
