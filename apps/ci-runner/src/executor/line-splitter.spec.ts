import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { LineSplitter, type LineSplitterOptions } from './line-splitter';

const bytes = (...parts: (string | number[])[]) =>
  Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part, 'utf8') : Buffer.from(part))));

/** Feeds the chunks and ends; returns the emitted lines. */
function split(chunks: Uint8Array[], options?: LineSplitterOptions): string[] {
  const lines: string[] = [];
  const splitter = new LineSplitter((line) => lines.push(line), options);
  for (const chunk of chunks) splitter.write(chunk);
  splitter.end();
  return lines;
}

/** Cuts `data` at the given positions (duplicates allowed: empty chunks happen too). */
function chunk(data: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [0, ...cuts.map((cut) => cut % (data.length + 1)).sort((a, b) => a - b), data.length];
  return points.slice(1).map((end, i) => data.subarray(points[i], end));
}

describe('LineSplitter', () => {
  it('splits on \\n, drops the \\r of \\r\\n, keeps empty lines and a last unterminated line', () => {
    expect(split([bytes('one\r\ntwo\n\nthree\rstill three\nlast')])).toEqual(['one', 'two', '', 'three\rstill three', 'last']);
  });

  it('emits nothing for no output, and no extra line after a final \\n', () => {
    expect(split([])).toEqual([]);
    expect(split([bytes('a\n')])).toEqual(['a']);
  });

  it('emits a line as soon as its \\n arrives', () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((line) => lines.push(line));
    splitter.write(bytes('first\nsec'));
    expect(lines).toEqual(['first']);
    splitter.write(bytes('ond\r'));
    splitter.write(bytes('\n'));
    expect(lines).toEqual(['first', 'second']);
  });

  it('keeps a character split across chunks whole', () => {
    const euro = bytes('€'); // three bytes
    expect(split([bytes('price: ', [euro[0]]), euro.subarray(1, 2), bytes([euro[2]], '5\n')])).toEqual(['price: €5']);
  });

  it('turns invalid UTF-8 and NUL into U+FFFD', () => {
    expect(split([bytes('a', [0xff], 'b', [0x00], 'c\n', [0xe2, 0x82])])).toEqual(['a\uFFFDb\uFFFDc', '\uFFFD']);
  });

  it('masks secrets, also across chunks and across a forced cut', () => {
    expect(split([bytes('token gtc_a'), bytes('bcd ok\n')], { secrets: ['gtc_abcd'] })).toEqual(['token *** ok']);
    expect(split([bytes('xxgtc_abcd\n')], { secrets: ['gtc_abcd'], maxLineChars: 4 })).toEqual(['xx**', '*']);
  });

  it('cuts long lines into pieces of maxLineChars, without an empty line before a \\r\\n', () => {
    expect(split([bytes('abcdefghij\n')], { maxLineChars: 4 })).toEqual(['abcd', 'efgh', 'ij']);
    expect(split([bytes('abcd'), bytes('\r'), bytes('\n')], { maxLineChars: 4 })).toEqual(['abcd']);
    expect(split([bytes('abcdefgh\r\n')], { maxLineChars: 4 })).toEqual(['abcd', 'efgh']);
  });

  it('cuts a line longer than the default limit without waiting for its end', () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((line) => lines.push(line));
    splitter.write(bytes('x'.repeat(40000)));
    expect(lines.map((line) => line.length)).toEqual([16384, 16384]);
    splitter.end();
    expect(lines.map((line) => line.length)).toEqual([16384, 16384, 7232]);
  });

  it('never splits a surrogate pair', () => {
    expect(split([bytes('ab😀cd\n')], { maxLineChars: 3 })).toEqual(['ab', '😀c', 'd']);
  });

  it('gives the same lines for any chunking of the bytes', () => {
    const unit = fc.oneof(fc.constantFrom('\n', '\r', '\u0000', 'gtc_ab', '€', '😀'), fc.string({ unit: 'grapheme', maxLength: 3 }));
    fc.assert(
      fc.property(fc.array(unit, { maxLength: 30 }), fc.array(fc.nat(), { maxLength: 10 }), fc.integer({ min: 2, max: 8 }), (parts, cuts, max) => {
        const data = bytes(...parts);
        const options = { secrets: ['gtc_ab'], maxLineChars: max };
        const lines = split(chunk(data, cuts), options);
        expect(lines).toEqual(split([data], options));
        for (const line of lines) {
          expect(line.length).toBeLessThanOrEqual(max);
          expect(line).not.toMatch(/\n|\u0000|gtc_ab/);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('rejects a write after end', () => {
    const splitter = new LineSplitter(() => undefined);
    splitter.end();
    expect(() => splitter.write(bytes('x'))).toThrow('write after end');
  });
});
