import { hash, randomInt } from 'node:crypto';
import { crc32 } from 'node:zlib';

/**
 * Opaque credential format (GitHub style): prefix + 30 random base62 characters + 6 base62
 * characters of CRC32 over prefix and random part. A malformed token or a bad checksum is refused
 * without any lookup, and secret scanners can recognise leaked tokens by prefix and checksum.
 *
 * Exactly: `^(gt[pirck]_)([0-9A-Za-z]{30})([0-9A-Za-z]{6})$`. The checksum is CRC-32 (IEEE 802.3,
 * zlib's `crc32`, reflected polynomial 0xEDB88320) over the 34 ASCII bytes of the prefix (with its
 * `_`) and the random part, written in base62 with the alphabet `0-9A-Za-z` (0 = '0', 61 = 'z'),
 * most significant digit first, left-padded with '0' to 6 digits. Offline checkers for scanners
 * (Node, Python) are in scripts/token-checker/ and the README; token-checker.spec keeps them in
 * agreement with parseToken.
 */
export const TOKEN_PREFIXES = {
  pat: 'gtp_',
  install: 'gti_',
  runner: 'gtr_',
  ciJob: 'gtc_',
  apiKey: 'gtk_',
} as const;

export type TokenKind = keyof typeof TOKEN_PREFIXES;

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const RANDOM_LENGTH = 30;
const CHECKSUM_LENGTH = 6;
export const TOKEN_LENGTH = 4 + RANDOM_LENGTH + CHECKSUM_LENGTH;
const TOKEN_PATTERN = /^(gt[pirck]_)([0-9A-Za-z]{30})([0-9A-Za-z]{6})$/;
const KIND_BY_PREFIX = new Map<string, TokenKind>(
  Object.entries(TOKEN_PREFIXES).map(([kind, prefix]) => [prefix, kind as TokenKind]),
);

function base62Fixed(value: number, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) {
    out = BASE62[value % 62] + out;
    value = Math.floor(value / 62);
  }
  return out;
}

function checksum(body: string): string {
  return base62Fixed(crc32(body), CHECKSUM_LENGTH);
}

/** Generates a new token of the given kind from the CSPRNG. */
export function generateToken(kind: TokenKind): string {
  let random = '';
  for (let i = 0; i < RANDOM_LENGTH; i++) random += BASE62[randomInt(62)];
  const body = TOKEN_PREFIXES[kind] + random;
  return body + checksum(body);
}

export interface ParsedToken {
  kind: TokenKind;
  /** First 4 random characters: safe to show in lists to tell tokens apart. */
  displayPrefix: string;
}

/** Parses a token and verifies its checksum; returns null for anything malformed. */
export function parseToken(token: string): ParsedToken | null {
  if (token.length !== TOKEN_LENGTH) return null;
  const match = TOKEN_PATTERN.exec(token);
  if (!match) return null;
  const kind = KIND_BY_PREFIX.get(match[1]);
  if (!kind) return null;
  if (checksum(match[1] + match[2]) !== match[3]) return null;
  return { kind, displayPrefix: match[1] + match[2].slice(0, 4) };
}

/** SHA-256 (hex) of a raw token: the only form a token is stored or sent in after creation. */
export function hashToken(token: string): string {
  // One-shot crypto.hash: a third of createHash()'s cost, and the gateway hashes every request.
  return hash('sha256', token, 'hex');
}
