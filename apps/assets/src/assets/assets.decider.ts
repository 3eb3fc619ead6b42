import { AssetsEvents, GantryError, type EventDataOf } from '#contracts';
import type { NewEvent, StoredEvent } from '#platform';

/** What an asset's stream says it is now: the object its record points at, or nothing. */
export interface AssetState {
  version: number;
  current: StoredAsset | null;
}

export interface StoredAsset {
  size: number;
  sha256: string;
  contentType: string;
  /** The upload whose object holds the bytes: key `<repoId>/<uploadId>`. */
  uploadId: string;
}

export const initialAssetState: AssetState = { version: 0, current: null };

/** One stream per (repository, path): the repository id has a fixed length, so no two collide. */
export const assetStream = (repoId: string, path: string) => `asset-${repoId}/${path}`;
const subject = (repoId: string, path: string) => ({ kind: 'asset', id: `${repoId}/${path}` });

/** A strong ETag: the content's SHA-256, quoted. Same bytes, same ETag; new bytes, new ETag. */
export const etagOf = (sha256: string) => `"${sha256}"`;

/** `If-None-Match: *` and `If-Match: <etags>` as the gateway passes them. */
export interface Preconditions {
  ifNoneMatch: boolean;
  ifMatch: string | null;
}

/** The upload as authorized: where it goes and on which conditions. */
export interface PendingUpload extends Preconditions {
  uploadId: string;
  repoId: string;
  path: string;
  size: number;
  contentType: string;
}

/**
 * RFC 9110 §13.1.1: `*` holds when there is a current asset; otherwise a list of entity tags of
 * which one must equal the current ETag by strong comparison (a weak tag never matches).
 */
export function ifMatchHolds(ifMatch: string, current: StoredAsset | null): boolean {
  if (current === null) return false;
  if (ifMatch.trim() === '*') return true;
  const etag = etagOf(current.sha256);
  return ifMatch.split(',').some((tag) => tag.trim() === etag);
}

/** If-Match first, then If-None-Match (the order of RFC 9110 §13.2.2); both fail with 412. */
export function checkPreconditions(state: AssetState, conditions: Preconditions): void {
  if (conditions.ifMatch !== null && !ifMatchHolds(conditions.ifMatch, state.current)) {
    throw new GantryError('precondition_failed', state.current === null ? 'If-Match: there is no asset at this path' : 'If-Match: the asset has another ETag');
  }
  if (conditions.ifNoneMatch && state.current !== null) {
    throw new GantryError('already_exists', 'If-None-Match: an asset exists at this path');
  }
}

/** Refuses at once what completion would refuse anyway: too large, or a failed precondition. */
export function decideAuthorize(state: AssetState, command: Preconditions & { size: number; maxBytes: number }): void {
  if (command.size > command.maxBytes) throw new GantryError('too_large', `size: at most ${command.maxBytes} bytes`, 'size');
  checkPreconditions(state, command);
}

/**
 * Records the upload's object as the asset, re-checking the preconditions against the stream as it
 * is now (another upload may have completed since the authorization). Replacing moves the pointer.
 */
export function decideComplete(state: AssetState, upload: PendingUpload, sha256: string): NewEvent[] {
  checkPreconditions(state, upload);
  const { repoId, path, size, contentType, uploadId } = upload;
  const stored = { repoId, path, size, sha256, contentType, uploadId };
  if (state.current === null) return [{ contract: AssetsEvents.uploaded, data: stored, subject: subject(repoId, path) }];
  return [{ contract: AssetsEvents.replaced, data: { ...stored, previousSha256: state.current.sha256 }, subject: subject(repoId, path) }];
}

export function decideDelete(state: AssetState, repoId: string, path: string): NewEvent[] {
  if (state.current === null) throw new GantryError('asset_not_found', 'no asset at this path');
  return [{ contract: AssetsEvents.deleted, data: { repoId, path, reason: 'deleted' }, subject: subject(repoId, path) }];
}

/** The repository is gone: its asset goes with it (nothing to do when there is none). */
export function decideRepoDeleted(state: AssetState, repoId: string, path: string): NewEvent[] {
  if (state.current === null) return [];
  return [{ contract: AssetsEvents.deleted, data: { repoId, path, reason: 'repo_deleted' }, subject: subject(repoId, path) }];
}

/**
 * Every event states the whole asset (or its absence), so the state after an event depends on
 * that event alone: loading an aggregate reads only the last event of its stream.
 */
export function evolveAsset(state: AssetState, event: Pick<StoredEvent, 'type' | 'version' | 'data'>): AssetState {
  const type = event.type as AssetEventType;
  switch (type) {
    case AssetsEvents.uploaded.type:
    case AssetsEvents.replaced.type: {
      const { size, sha256, contentType, uploadId } = event.data as EventDataOf<typeof AssetsEvents.uploaded>;
      return { version: event.version, current: { size, sha256, contentType, uploadId } };
    }
    case AssetsEvents.deleted.type:
      return { version: event.version, current: null };
    default: {
      const unknown: never = type;
      throw new Error(`not an asset event: ${String(unknown)}`);
    }
  }
}

type AssetEventType = (typeof AssetsEvents)[keyof typeof AssetsEvents]['type'];
