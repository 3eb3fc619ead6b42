import { isStorable } from '../strings';

export const MAX_ASSET_PATH_BYTES = 1024;

/** C0 and C1 control characters and DEL. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

export type AssetPathCheck = { ok: true; path: string } | { ok: false; reason: string };

/**
 * An asset path as the API takes it: NFC-normalised first (a name typed on macOS and on Linux is
 * the same asset), then 1–1024 bytes of UTF-8, `/`-separated segments, none empty, `.` or `..`, no
 * leading or trailing `/`, no backslash, no control character, nothing PostgreSQL cannot store.
 */
export function checkAssetPath(raw: string): AssetPathCheck {
  if (!isStorable(raw)) return { ok: false, reason: 'not valid UTF-8 text' };
  const path = raw.normalize('NFC');
  const bytes = new TextEncoder().encode(path).length;
  if (bytes === 0) return { ok: false, reason: 'empty' };
  if (bytes > MAX_ASSET_PATH_BYTES) return { ok: false, reason: `longer than ${MAX_ASSET_PATH_BYTES} bytes` };
  if (CONTROL.test(path)) return { ok: false, reason: 'contains a control character' };
  if (path.includes('\\')) return { ok: false, reason: 'contains a backslash' };
  if (path.startsWith('/') || path.endsWith('/')) return { ok: false, reason: 'starts or ends with /' };
  if (path.split('/').some((segment) => segment === '' || segment === '.' || segment === '..')) return { ok: false, reason: 'has an empty, . or .. segment' };
  return { ok: true, path };
}
