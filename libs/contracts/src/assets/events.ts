import { z } from 'zod';
import { defineEvent } from '../kernel';

const Stored = {
  repoId: z.string(),
  path: z.string(),
  size: z.number().int(),
  sha256: z.string(),
  contentType: z.string(),
  /** The upload whose object now holds the bytes (object key `<repoId>/<uploadId>`). */
  uploadId: z.string(),
};

/** The assets service's events; the uploader is the event's actor. */
export const AssetsEvents = {
  uploaded: defineEvent('assets.asset.uploaded', 1, z.strictObject(Stored)),
  replaced: defineEvent('assets.asset.replaced', 1, z.strictObject({ ...Stored, previousSha256: z.string() })),
  deleted: defineEvent('assets.asset.deleted', 1, z.strictObject({ repoId: z.string(), path: z.string(), reason: z.enum(['deleted', 'repo_deleted']) })),
} as const;
