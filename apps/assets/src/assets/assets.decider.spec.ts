import { describe, expect, it } from '@jest/globals';
import { AssetsEvents } from '#contracts';
import type { NewEvent } from '#platform';
import { eventTypes, refusalOf } from '#platform/testing/decider';
import {
  decideAuthorize, decideComplete, decideDelete, decideRepoDeleted, etagOf, evolveAsset, ifMatchHolds, initialAssetState,
  type AssetState, type PendingUpload,
} from './assets.decider';

const REPO = '0190a0a0-0000-7000-8000-000000000001';
const SHA_A = 'a'.repeat(64);
const SHA_B = 'b'.repeat(64);
const upload = (overrides: Partial<PendingUpload> = {}): PendingUpload => ({
  uploadId: 'u1', repoId: REPO, path: 'dist/app.tar.gz', size: 10, contentType: 'application/gzip', ifNoneMatch: false, ifMatch: null, ...overrides,
});

/** Given these events (as stored), the state a decider sees. */
function given(...events: NewEvent[]): AssetState {
  return events.reduce((state, event, i) => evolveAsset(state, { type: event.contract.type, version: i + 1, data: event.data }), initialAssetState);
}
const types = eventTypes;
const code = refusalOf;

const uploadedA = decideComplete(initialAssetState, upload({ uploadId: 'u1' }), SHA_A)[0];
const replacedByB = decideComplete(given(uploadedA), upload({ uploadId: 'u2', size: 20 }), SHA_B)[0];

describe('asset decider', () => {
  it('complete on a free path: uploaded, pointing at the upload’s object', () => {
    expect(uploadedA.contract).toBe(AssetsEvents.uploaded);
    expect(uploadedA.data).toEqual({ repoId: REPO, path: 'dist/app.tar.gz', size: 10, sha256: SHA_A, contentType: 'application/gzip', uploadId: 'u1' });
    expect(uploadedA.subject).toEqual({ kind: 'asset', id: `${REPO}/dist/app.tar.gz` });
  });

  it('complete on a taken path: replaced, naming the previous content; the state follows the last event', () => {
    expect(types([replacedByB])).toEqual(['assets.asset.replaced']);
    expect(replacedByB.data).toMatchObject({ uploadId: 'u2', sha256: SHA_B, previousSha256: SHA_A });
    expect(given(uploadedA, replacedByB)).toEqual({ version: 2, current: { size: 20, sha256: SHA_B, contentType: 'application/gzip', uploadId: 'u2' } });
  });

  it('If-None-Match: * holds on a free path, and is already_exists on a taken one (also at completion)', () => {
    expect(types(decideComplete(initialAssetState, upload({ ifNoneMatch: true }), SHA_A))).toEqual(['assets.asset.uploaded']);
    expect(code(() => decideAuthorize(given(uploadedA), { size: 1, maxBytes: 10, ifNoneMatch: true, ifMatch: null }))).toBe('already_exists');
    expect(code(() => decideComplete(given(uploadedA), upload({ ifNoneMatch: true }), SHA_B))).toBe('already_exists');
  });

  it('If-Match: only the current strong ETag (in a list, or *); a weak tag, another tag or no asset is precondition_failed', () => {
    const state = given(uploadedA);
    expect(types(decideComplete(state, upload({ ifMatch: etagOf(SHA_A) }), SHA_B))).toEqual(['assets.asset.replaced']);
    expect(ifMatchHolds(`"x", ${etagOf(SHA_A)}`, state.current)).toBe(true);
    expect(ifMatchHolds('*', state.current)).toBe(true);
    expect(ifMatchHolds(`W/${etagOf(SHA_A)}`, state.current)).toBe(false);
    expect(ifMatchHolds(SHA_A, state.current)).toBe(false); // unquoted is not an entity tag
    expect(code(() => decideComplete(given(uploadedA, replacedByB), upload({ ifMatch: etagOf(SHA_A) }), SHA_A))).toBe('precondition_failed');
    expect(code(() => decideAuthorize(initialAssetState, { size: 1, maxBytes: 10, ifNoneMatch: false, ifMatch: '*' }))).toBe('precondition_failed');
  });

  it('authorize: a size above the limit is too_large; the limit itself is fine', () => {
    expect(code(() => decideAuthorize(initialAssetState, { size: 11, maxBytes: 10, ifNoneMatch: false, ifMatch: null }))).toBe('too_large size');
    expect(code(() => decideAuthorize(initialAssetState, { size: 10, maxBytes: 10, ifNoneMatch: false, ifMatch: null }))).toBe('no error');
    expect(code(() => decideAuthorize(initialAssetState, { size: 0, maxBytes: 10, ifNoneMatch: true, ifMatch: null }))).toBe('no error');
  });

  it('delete: an asset is deleted; none is asset_not_found; after a delete the path is free again', () => {
    const [deleted] = decideDelete(given(uploadedA), REPO, 'dist/app.tar.gz');
    expect(deleted.data).toEqual({ repoId: REPO, path: 'dist/app.tar.gz', reason: 'deleted' });
    expect(code(() => decideDelete(initialAssetState, REPO, 'x'))).toBe('asset_not_found');
    const gone = given(uploadedA, deleted);
    expect(gone).toEqual({ version: 2, current: null });
    expect(code(() => decideDelete(gone, REPO, 'dist/app.tar.gz'))).toBe('asset_not_found');
    expect(types(decideComplete(gone, upload({ ifNoneMatch: true }), SHA_B))).toEqual(['assets.asset.uploaded']);
  });

  it('repository deleted: its asset is deleted with reason repo_deleted; nothing when there is none', () => {
    expect(decideRepoDeleted(given(uploadedA), REPO, 'dist/app.tar.gz')[0].data).toEqual({ repoId: REPO, path: 'dist/app.tar.gz', reason: 'repo_deleted' });
    expect(decideRepoDeleted(initialAssetState, REPO, 'x')).toEqual([]);
  });

  it('evolve refuses an event type it does not know', () => {
    expect(() => evolveAsset(initialAssetState, { type: 'assets.asset.renamed', version: 1, data: {} })).toThrow(/not an asset event/);
  });
});
