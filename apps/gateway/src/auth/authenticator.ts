import { Injectable } from '@nestjs/common';
import type { IncomingHttpHeaders } from 'node:http';
import { GantryError, hashToken, parseToken, TOKEN_PREFIXES, type CredentialRef, type Principal } from '#contracts';
import { AuthCache } from './auth-cache';
import { AuthFreshness } from './auth-freshness';
import { CredentialLookup } from './credential-lookup';
import { SessionVerifier } from './session-verifier';
import { UsageRecorder } from './usage-recorder';
import { cookieValue, SESSION_COOKIE } from '../console/cookies';

const BEARER = /^Bearer ([^\s]+)$/i;
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * Turns a request's credential into a principal. Malformed credentials and bad checksums are
 * refused before any lookup. The cache key is the SHA-256 of the exact credential string, so a hit
 * skips the format and signature checks (the same string passed them before) and a raw token never
 * leaves the gateway. Identity unreachable and nothing cached → 503, never a pass.
 */
@Injectable()
export class Authenticator {
  constructor(
    private readonly sessions: SessionVerifier,
    private readonly cache: AuthCache,
    private readonly usage: UsageRecorder,
    private readonly lookup: CredentialLookup,
    private readonly freshness: AuthFreshness,
  ) {
    freshness.onStale(() => cache.clear());
  }

  /** Synchronous on a cache hit (no promise on the hot path); throws GantryError when refused. */
  authenticate(headers: IncomingHttpHeaders, ip: string): Principal | Promise<Principal> {
    const credential = extractCredential(headers);
    if (!credential) throw new GantryError('unauthenticated', 'authentication required: send Authorization: Bearer <token>');
    const key = hashToken(credential);
    const now = Date.now();
    // A hit means this exact string was checked and resolved before; only a miss validates it.
    // A gateway that may have missed invalidations asks identity every time (see AuthFreshness).
    const principal = this.freshness.fresh(now) ? this.cache.get(key, () => this.resolveUncached(credential, key, ip)) : this.resolveUncached(credential, key, ip);
    return principal instanceof Promise ? principal.then((resolved) => this.usable(resolved, ip, Date.now())) : this.usable(principal, ip, now);
  }

  /** Checks expiry (a cached principal outlives nothing) and notes the use. */
  private usable(principal: Principal, ip: string, now: number): Principal {
    if (principal.expiresAt !== null && principal.expiresAt * 1000 <= now) {
      throw new GantryError('token_expired', principal.kind === 'session' ? 'session expired: log in again' : 'this token has expired');
    }
    this.usage.record(principal, ip);
    return principal;
  }

  /** A miss: refused at once (synchronously) for a client over its failed-authentication budget. */
  private resolveUncached(credential: string, hash: string, ip: string): Promise<Principal> {
    this.lookup.admit(ip);
    return this.validateAndResolve(credential, hash);
  }

  /** Format and checksum (or JWT signature) first: a malformed credential never reaches identity. */
  private async validateAndResolve(credential: string, hash: string): Promise<Principal> {
    if (JWT_SHAPE.test(credential)) {
      const claims = await this.sessions.verify(credential);
      return this.resolve({ kind: 'session', sessionId: claims.sessionId, userId: claims.userId });
    }
    if (!parseToken(credential)) throw new GantryError('invalid_token', 'malformed token or bad checksum');
    return this.resolve({ kind: 'token', hash });
  }

  private resolve(credential: CredentialRef): Promise<Principal> {
    return this.lookup.resolve(credential);
  }
}

/** The raw credential of a request (also what Idempotency-Key seals derive from); never log it. */
export function extractCredential(headers: IncomingHttpHeaders): string | null {
  const authorization = headers.authorization;
  if (authorization) return BEARER.exec(authorization)?.[1] ?? '';
  const key = headers['x-gantry-key'];
  if (typeof key !== 'string') return sessionCookieOf(headers);
  // The header is for repository API keys; any other credential goes in Authorization.
  if (!key.startsWith(TOKEN_PREFIXES.apiKey)) throw new GantryError('invalid_token', 'X-Gantry-Key takes a repository API key (gtk_…) only; send other tokens as Authorization: Bearer');
  return key;
}

/**
 * The web console's session cookie (only when no Authorization or X-Gantry-Key header came: those
 * keep priority and their path never reads cookies). It holds a session JWT and nothing else.
 */
function sessionCookieOf(headers: IncomingHttpHeaders): string | null {
  const jwt = cookieValue(headers.cookie, SESSION_COOKIE);
  if (jwt === null) return null;
  if (!JWT_SHAPE.test(jwt)) throw new GantryError('invalid_token', 'invalid session cookie: sign in again');
  return jwt;
}
