import { Inject, Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { GantryError, IdentityRequests, type CredentialRef, type Principal } from '#contracts';
import { RpcClient } from '#platform';
import { RateLimits } from '../http/rate-limits.service';

/** Unknown token hashes remembered (a token that is unknown now was never handed out: none becomes valid later). */
const UNKNOWN_MAX = 10_000;
const UNKNOWN_TTL_MS = 60_000;

/**
 * Asks identity who a credential is, on an auth-cache miss — but not for a client that is over its
 * failed-authentication budget (429 before any lookup), nor again for a token hash identity called
 * unknown a moment ago (a short, bounded negative cache): guessing tokens costs identity nothing
 * more once it stops paying off.
 */
@Injectable()
export class CredentialLookup {
  private readonly unknown = new LRUCache<string, string>({ max: UNKNOWN_MAX, ttl: UNKNOWN_TTL_MS });

  constructor(
    @Inject(RpcClient) private readonly rpc: RpcClient,
    private readonly limits: RateLimits,
  ) {}

  /** Synchronous: throws RateLimitedError when the client at `ip` may not have credentials looked up. */
  admit(ip: string): void {
    this.limits.beforeLookup(ip);
  }

  async resolve(credential: CredentialRef): Promise<Principal> {
    const known = credential.kind === 'token' ? this.unknown.get(credential.hash) : undefined;
    if (known !== undefined) throw new GantryError('invalid_token', known);
    try {
      return await this.rpc.request(IdentityRequests.resolve, { credential });
    } catch (error) {
      if (credential.kind === 'token' && error instanceof GantryError && error.code === 'invalid_token') this.unknown.set(credential.hash, error.message);
      throw error;
    }
  }
}
