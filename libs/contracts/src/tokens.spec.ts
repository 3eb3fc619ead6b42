import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { generateToken, parseToken, TOKEN_LENGTH, TOKEN_PREFIXES, type TokenKind } from './tokens';

const KINDS = Object.keys(TOKEN_PREFIXES) as TokenKind[];
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

describe('tokens', () => {
  it('generates tokens of the documented shape for every kind', () => {
    for (const kind of KINDS) {
      const token = generateToken(kind);
      expect(token).toHaveLength(TOKEN_LENGTH);
      expect(token.startsWith(TOKEN_PREFIXES[kind])).toBe(true);
      expect(parseToken(token)).toEqual({ kind, displayPrefix: token.slice(0, 8) });
    }
  });

  it('every generated token verifies', () => {
    fc.assert(
      fc.property(fc.constantFrom(...KINDS), (kind) => parseToken(generateToken(kind))?.kind === kind),
      { numRuns: 2000 },
    );
  });

  it('any single-character change fails the checksum or the format', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...KINDS),
        fc.nat({ max: TOKEN_LENGTH - 1 }),
        fc.constantFrom(...BASE62, '_', '-', ' '),
        (kind, index, replacement) => {
          const token = generateToken(kind);
          fc.pre(token[index] !== replacement);
          const tampered = token.slice(0, index) + replacement + token.slice(index + 1);
          return parseToken(tampered) === null;
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('rejects malformed input', () => {
    const valid = generateToken('pat');
    for (const bad of ['', 'gtp_', valid + 'x', valid.slice(1), 'gtx_' + valid.slice(4), valid.toUpperCase()]) {
      expect(parseToken(bad)).toBeNull();
    }
  });

  it('generates distinct tokens', () => {
    const seen = new Set(Array.from({ length: 1000 }, () => generateToken('pat')));
    expect(seen.size).toBe(1000);
  });
});
