import { describe, expect, it } from '@jest/globals';
import { attachment, noneMatchHits, parseRange } from './http-ranges';

describe('HTTP ranges and headers for assets', () => {
  it('parses single byte ranges against the size', () => {
    expect(parseRange('bytes=0-9', 100)).toEqual({ start: 0, end: 9 });
    expect(parseRange('bytes=90-', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=90-500', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=-10', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=-500', 100)).toEqual({ start: 0, end: 99 });
  });

  it('416 for what starts past the end; the whole file for what it cannot use', () => {
    expect(parseRange('bytes=100-', 100)).toBe('unsatisfiable');
    expect(parseRange('bytes=-0', 100)).toBe('unsatisfiable');
    expect(parseRange('bytes=0-', 0)).toBe('unsatisfiable');
    for (const ignored of [undefined, 'bytes=0-1,5-6', 'items=0-1', 'bytes=5-2', 'bytes=-', 'garbage']) expect(parseRange(ignored, 100)).toBeNull();
  });

  it('If-None-Match matches the ETag, a list, weak forms and *', () => {
    expect(noneMatchHits('"abc"', '"abc"')).toBe(true);
    expect(noneMatchHits('"x", W/"abc"', '"abc"')).toBe(true);
    expect(noneMatchHits('*', '"abc"')).toBe(true);
    expect(noneMatchHits('"abd"', '"abc"')).toBe(false);
    expect(noneMatchHits(undefined, '"abc"')).toBe(false);
  });

  it('Content-Disposition has an ASCII fallback and the exact UTF-8 name', () => {
    expect(attachment('releases/v1/gantry-linux.tar.gz')).toBe(`attachment; filename="gantry-linux.tar.gz"; filename*=UTF-8''gantry-linux.tar.gz`);
    expect(attachment('dir/naïve "q".txt')).toBe(`attachment; filename="na_ve _q_.txt"; filename*=UTF-8''na%C3%AFve%20%22q%22.txt`);
  });
});
