/** A satisfiable single byte range, inclusive. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * A `Range` header against a representation of `size` bytes (RFC 9110 §14): one range → the bytes,
 * `unsatisfiable` → 416, anything else (absent, several ranges, another unit, malformed) → null,
 * which means the whole representation (ignoring Range is what the RFC allows).
 */
export function parseRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | null {
  if (header === undefined) return null;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return null;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0) return 'unsatisfiable';
    return size === 0 ? 'unsatisfiable' : { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (match[2] !== '' && Number(match[2]) < start) return null; // invalid: ignored
  if (start >= size) return 'unsatisfiable';
  return { start, end };
}

/** `If-None-Match`: does any listed ETag (or `*`) match? Weak comparison, as the RFC says for it. */
export function noneMatchHits(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const strip = (tag: string) => tag.trim().replace(/^W\//, '');
  return header.split(',').some((tag) => tag.trim() === '*' || strip(tag) === etag);
}

/**
 * `Content-Disposition: attachment` for a file name (RFC 6266): an ASCII fallback for old clients
 * and the exact name as RFC 8187 `filename*`.
 */
export function attachment(path: string): string {
  const name = path.slice(path.lastIndexOf('/') + 1);
  const fallback = name.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}
