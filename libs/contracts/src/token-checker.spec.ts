import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { generateToken, parseToken, TOKEN_PREFIXES, type TokenKind } from './tokens';

/**
 * The offline token checkers for secret scanners (scripts/token-checker/, shown in the README's
 * token format section) against the implementation: they must agree on every token, valid or not.
 */
const CHECKER_JS = '../../../scripts/token-checker/check-gantry-token.mjs';
const CHECKER_PY = 'scripts/token-checker/check_gantry_token.py';
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const KINDS = Object.keys(TOKEN_PREFIXES) as TokenKind[];

/** The README's worked example. */
const EXAMPLE = { body: 'gtp_GantryTokenFormatExample012345', crc: 2224868970, digits: [2, 26, 35, 20, 3, 24], token: 'gtp_GantryTokenFormatExample0123452QZK3O' };

const base62Char = fc.constantFrom(...BASE62);
const anyChar = fc.oneof(base62Char, fc.constantFrom('_', '-', ' ', '\n', '\u0000', 'é', '😀', '/', '+', '='));
/** Tokens that look almost right: a real token with one character changed, removed, added or swapped. */
const mutated = fc.tuple(fc.constantFrom(...KINDS), fc.nat(), anyChar, fc.constantFrom('replace', 'delete', 'insert', 'swap')).map(([kind, at, char, how]) => {
  const token = generateToken(kind);
  const i = at % token.length;
  if (how === 'replace') return token.slice(0, i) + char + token.slice(i + 1);
  if (how === 'delete') return token.slice(0, i) + token.slice(i + 1);
  if (how === 'insert') return token.slice(0, i) + char + token.slice(i);
  const j = (i + 1) % token.length;
  const chars = [...token];
  [chars[i], chars[j]] = [chars[j], chars[i]];
  return chars.join('');
});
/** Right shape, random checksum: right by chance once in 62^6. */
const wellFormed = fc.tuple(fc.constantFrom('gtp_', 'gti_', 'gtr_', 'gtc_', 'gtk_', 'gtx_', 'ghp_'), fc.string({ unit: base62Char, minLength: 36, maxLength: 36 })).map(([prefix, rest]) => prefix + rest);
const candidates = fc.oneof(
  fc.constantFrom(...KINDS).map((kind) => generateToken(kind)),
  mutated,
  wellFormed,
  fc.string({ unit: anyChar, maxLength: 50 }),
);

describe('token format: the published checkers agree with the implementation', () => {
  it('the worked example: CRC32 over prefix and random part, 6 base62 digits, most significant first', () => {
    expect(EXAMPLE.body).toHaveLength(34);
    expect(crc32(EXAMPLE.body)).toBe(EXAMPLE.crc);
    expect(EXAMPLE.crc.toString(16)).toBe('849cce6a');
    expect(EXAMPLE.digits.reduce((value, digit) => value * 62 + digit, 0)).toBe(EXAMPLE.crc);
    expect(EXAMPLE.body + EXAMPLE.digits.map((d) => BASE62[d]).join('')).toBe(EXAMPLE.token);
    expect(parseToken(EXAMPLE.token)).toEqual({ kind: 'pat', displayPrefix: 'gtp_Gant' });
  });

  it('the Node checker agrees with parseToken on generated, mutated and random tokens (property)', async () => {
    const { isGantryToken } = (await import(CHECKER_JS)) as { isGantryToken: (token: string) => boolean };
    expect(isGantryToken(EXAMPLE.token)).toBe(true);
    for (const kind of KINDS) for (let i = 0; i < 200; i++) expect(isGantryToken(generateToken(kind))).toBe(true);
    fc.assert(fc.property(candidates, (token) => isGantryToken(token) === (parseToken(token) !== null)), { numRuns: 20000 });
  });

  it('the README shows the Node checker exactly as tested here (once it names the file)', () => {
    const readme = readFileSync('README.md', 'utf8');
    if (!readme.includes('scripts/token-checker/check-gantry-token.mjs')) return; // the README's token section does not show it yet
    expect(readme).toContain(readFileSync('scripts/token-checker/check-gantry-token.mjs', 'utf8').trimEnd());
  });

  it('the Python checker agrees with parseToken too', () => {
    const tokens = [EXAMPLE.token, ...fc.sample(candidates, 3000).filter((token) => !/[\n\r\u0085\u2028\u2029\u000b\u000c\u001c-\u001e]/.test(token))];
    const run = spawnSync('python3', [CHECKER_PY], { input: tokens.join('\n') + '\n', encoding: 'utf8' });
    expect(run.stderr).toBe('');
    const answers = run.stdout.trimEnd().split('\n');
    expect(answers).toHaveLength(tokens.length);
    const disagreements = tokens.filter((token, i) => (answers[i] === 'valid') !== (parseToken(token) !== null));
    expect(disagreements).toEqual([]);
    expect(answers.filter((a) => a === 'valid').length).toBeGreaterThan(500);
  });
});
