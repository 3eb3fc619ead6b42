import { Inject, Injectable } from '@nestjs/common';
import { createLocalJWKSet, errors, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';
import { GantryError, IdentityRequests, SESSION_JWT } from '#contracts';
import { RpcClient } from '#platform';

/** An unknown kid triggers a refetch at most this often, so garbage kids cannot flood identity. */
const REFETCH_INTERVAL_MS = 5000;

/**
 * Verifies session JWTs locally (EdDSA) with the JWK set fetched from identity over NATS; refetches
 * when a token names a key it does not know (key rotation).
 */
@Injectable()
export class SessionVerifier {
  private jwks: JSONWebKeySet | null = null;
  private keySet: ReturnType<typeof createLocalJWKSet> | null = null;
  private fetchedAt = 0;
  private inflight: Promise<void> | null = null;

  constructor(@Inject(RpcClient) private readonly rpc: RpcClient) {}

  /** Checks signature, issuer, audience and expiry locally; identity then says if it still counts. */
  async verify(jwt: string): Promise<SessionClaims> {
    // base64url leaves unused bits in a segment's last character: several strings decode to one
    // signature. Only the canonical one is accepted, so one session is one cache key.
    if (!jwt.split('.').every(isCanonicalBase64Url)) throw new GantryError('invalid_token', 'invalid session token');
    if (!this.keySet) await this.refresh();
    try {
      return toClaims(await this.check(jwt));
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey) || Date.now() - this.fetchedAt < REFETCH_INTERVAL_MS) throw mapJoseError(error);
      await this.refresh();
      return toClaims(await this.check(jwt).catch((retryError: unknown) => Promise.reject(mapJoseError(retryError))));
    }
  }

  async publicKeys(): Promise<JSONWebKeySet> {
    if (!this.jwks) await this.refresh();
    return this.jwks!;
  }

  private async check(jwt: string): Promise<JWTPayload> {
    const { payload } = await jwtVerify(jwt, this.keySet!, { ...SESSION_JWT, algorithms: ['EdDSA'] });
    return payload;
  }

  /** Single-flight: concurrent misses share one request to identity. */
  private refresh(): Promise<void> {
    this.inflight ??= this.rpc
      .request(IdentityRequests.jwks, {})
      .then((jwks) => {
        this.jwks = jwks as unknown as JSONWebKeySet;
        this.keySet = createLocalJWKSet(this.jwks);
        this.fetchedAt = Date.now();
      })
      .finally(() => (this.inflight = null));
    return this.inflight;
  }
}

function isCanonicalBase64Url(segment: string): boolean {
  return Buffer.from(segment, 'base64url').toString('base64url') === segment;
}

export interface SessionClaims {
  sessionId: string;
  userId: string;
}

function toClaims(payload: JWTPayload): SessionClaims {
  if (!payload.sub || !payload.jti || !payload.exp) throw new GantryError('invalid_token', 'invalid session token');
  return { sessionId: payload.jti, userId: payload.sub };
}

function mapJoseError(error: unknown): unknown {
  if (error instanceof GantryError) return error;
  if (error instanceof errors.JWTExpired) return new GantryError('token_expired', 'session expired: log in again');
  if (error instanceof errors.JOSEError) return new GantryError('invalid_token', 'invalid session token');
  return error;
}
