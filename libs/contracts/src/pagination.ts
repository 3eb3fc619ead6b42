import { z } from 'zod';
import { isStorable, storableString } from './strings';

const NOT_A_CURSOR = 'not a cursor from a previous page';

/**
 * A list cursor: opaque to clients, base64url of the last key of the previous page. Anything else,
 * or one that decodes to text PostgreSQL cannot store (a NUL), is refused here (400 `cursor`)
 * rather than by the database.
 */
export function cursorString(maxLength: number) {
  return storableString()
    .max(maxLength)
    .regex(/^[A-Za-z0-9_-]*$/, NOT_A_CURSOR)
    .refine((cursor) => isStorable(Buffer.from(cursor, 'base64url').toString()), NOT_A_CURSOR);
}

/** `?limit=&cursor=` on list routes; the cursor is opaque to clients. */
export const PageQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(30),
  cursor: cursorString(200).optional(),
});
export type PageQuery = z.infer<typeof PageQuerySchema>;

export function pageOf<T extends z.ZodType>(item: T) {
  return z.strictObject({ items: z.array(item), nextCursor: z.string().nullable() });
}
