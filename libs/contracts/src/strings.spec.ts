import { describe, expect, it } from '@jest/globals';
import { cursorString, PageQuerySchema } from './pagination';
import { isStorable, storableString } from './strings';

describe('storableString', () => {
  it('refuses NUL and unpaired surrogates, keeps every other character', () => {
    for (const bad of ['\u0000', 'a\u0000', '\ud800', 'x\udc00y', '\ud83d', '\ude00a']) expect([bad, isStorable(bad)]).toEqual([bad, false]);
    for (const good of ['', 'plain', 'é', '😀', '\u0001\u001f', '\ufeff', 'x'.repeat(100_000)]) expect(isStorable(good)).toBe(true);
    expect(storableString().max(5).safeParse('a\u0000').error?.issues[0].message).toMatch(/cannot be stored/);
  });
});

describe('cursorString', () => {
  const cursor = cursorString(200);

  it('takes what a previous page handed out (base64url)', () => {
    expect(cursor.safeParse(Buffer.from('admin').toString('base64url')).success).toBe(true);
  });

  it('refuses a cursor that is not base64url or decodes to a NUL, naming the field', () => {
    for (const bad of ['%00', 'not base64!', '\u0000', Buffer.from('a\u0000b').toString('base64url')]) expect([bad, cursor.safeParse(bad).success]).toEqual([bad, false]);
    expect(PageQuerySchema.safeParse({ cursor: 'YQBi' }).error?.issues[0].path).toEqual(['cursor']);
  });
});
