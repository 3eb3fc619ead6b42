import { Inject, Injectable } from '@nestjs/common';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config';
import { clientKey } from './client-ip';
import { PasswordGuessing, TokenBuckets, type PasswordAttempt } from './rate-limit';

/**
 * The gateway's rate limits, per gateway instance (in memory): per credential for authenticated
 * calls, per client (IPv4 address or IPv6 /64) for anonymous ones and for failed authentications,
 * and the password-guessing backoff per username. With N gateways behind a balancer a caller gets
 * at most N× the limit.
 */
@Injectable()
export class RateLimits {
  private readonly perCredential: TokenBuckets;
  private readonly perIp: TokenBuckets;
  private readonly passwords: PasswordGuessing;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    this.perCredential = new TokenBuckets(config.GANTRY_RATE_LIMIT_PER_SECOND, config.GANTRY_RATE_LIMIT_BURST);
    this.perIp = new TokenBuckets(config.GANTRY_RATE_LIMIT_ANON_PER_SECOND, config.GANTRY_RATE_LIMIT_ANON_BURST);
    this.passwords = new PasswordGuessing(config.GANTRY_LOGIN_FREE_ATTEMPTS, config.GANTRY_LOGIN_USER_FREE_ATTEMPTS);
  }

  credential(credentialId: string): void {
    this.perCredential.take(credentialId);
  }

  /** One anonymous call of `scope` (a route, or `anonymous`) from the client at `ip`. */
  anonymous(scope: string, ip: string): void {
    this.perIp.take(`${scope}|${clientKey(ip)}`);
  }

  /** A failed authentication from `ip`: guessing credentials ends in 429s. */
  authFailed(ip: string): void {
    this.perIp.take(`auth-failure|${clientKey(ip)}`);
  }

  /** Before a credential is looked up: a client over its failed-authentication budget gets a 429. */
  beforeLookup(ip: string): void {
    this.perIp.check(`auth-failure|${clientKey(ip)}`);
  }

  /** Reserves a password attempt (login, password change) for `username` from `ip`, or throws 429. */
  passwordAttempt(username: string, ip: string): PasswordAttempt {
    return this.passwords.reserve(username, clientKey(ip));
  }
}
