import { checkAssetPath, GantryError, type Actor, type Asset } from '#contracts';
import type { Tx } from '#platform';
import { assetStream, etagOf, evolveAsset, initialAssetState, type AssetState } from './assets.decider';

/** An `assets` row (the read model). */
export interface AssetRow {
  repo_id: string;
  path: string;
  /** bigint: node-postgres returns it as a string. */
  size: string;
  sha256: string;
  content_type: string;
  upload_id: string;
  uploaded_by: Actor;
  uploaded_at: Date;
  version: number;
}

export function toAsset(row: AssetRow): Asset {
  return {
    path: row.path, size: Number(row.size), sha256: row.sha256, contentType: row.content_type,
    etag: etagOf(row.sha256), uploadedBy: row.uploaded_by, uploadedAt: row.uploaded_at.toISOString(),
  };
}

export async function findAsset(tx: Tx, repoId: string, path: string): Promise<AssetRow | null> {
  const { rows } = await tx.query<AssetRow>('SELECT * FROM assets WHERE repo_id = $1 AND path = $2', [repoId, path]);
  return rows[0] ?? null;
}

/** The aggregate for a decider: its stream's last event says it all (see evolveAsset). */
export async function loadAssetState(tx: Tx, repoId: string, path: string): Promise<AssetState> {
  const { rows } = await tx.query<{ type: string; version: number; data: unknown }>(
    'SELECT type, version, data FROM events WHERE stream_id = $1 ORDER BY version DESC LIMIT 1',
    [assetStream(repoId, path)],
  );
  return rows[0] ? evolveAsset(initialAssetState, rows[0]) : initialAssetState;
}

/**
 * The path checked again on receipt (the gateway checked it too), NFC-normalised as stored.
 * Over NATS the contract's schema already refuses a bad path (invalid_request, field path).
 */
export function checkedPath(raw: string): string {
  const checked = checkAssetPath(raw);
  if (!checked.ok) throw new GantryError('invalid_path', `path: ${checked.reason}`, 'path');
  return checked.path;
}

/** List cursors are opaque to clients: base64url of the last path of the previous page. */
export function encodeCursor(path: string): string {
  return Buffer.from(path).toString('base64url');
}

export function decodeCursor(cursor: string): string {
  const path = Buffer.from(cursor, 'base64url').toString();
  const checked = checkAssetPath(path);
  if (!checked.ok || checked.path !== path || encodeCursor(path) !== cursor) {
    throw new GantryError('invalid_request', 'cursor: not a cursor from a previous page', 'cursor');
  }
  return path;
}

/** `prefix` as a LIKE pattern matching itself literally, then anything. */
export function likePrefix(prefix: string): string {
  return `${prefix.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;
}
