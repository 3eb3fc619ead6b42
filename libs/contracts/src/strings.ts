import { z } from 'zod';

/** A NUL, or a UTF-16 surrogate without its other half: PostgreSQL can store neither in `text`/`jsonb`. */
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Whether PostgreSQL can store the string as text (no NUL, no lone surrogate). */
export function isStorable(value: string): boolean {
  return !UNSTORABLE.test(value);
}

/**
 * The one string schema for anything that may reach PostgreSQL: refused at the edge (400 naming the
 * field) instead of failing in the database. Chain `.min()`/`.max()`/`.regex()` as on `z.string()`.
 */
export function storableString() {
  return z.string().refine(isStorable, 'contains a character that cannot be stored (NUL or an unpaired surrogate)');
}
