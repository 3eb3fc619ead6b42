import { Inject, Injectable } from '@nestjs/common';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config';
import { LoginBackoff, TokenBuckets } from './rate-limit';

/**
 * The gateway's rate limits, per gateway instance (in memory): per credential for authenticated
 * calls, per client IP for anonymous ones and for failed authentications, and a login backoff per
 * username + IP. With N gateways behind a balancer a caller gets at most N× the limit.
 */
@Injectable()
export class RateLimits {
  private readonly perCredential: TokenBuckets;
  private readonly perIp: TokenBuckets;
  readonly login: LoginBackoff;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    this.perCredential = new TokenBuckets(config.GANTRY_RATE_LIMIT_PER_SECOND, config.GANTRY_RATE_LIMIT_BURST);
    this.perIp = new TokenBuckets(config.GANTRY_RATE_LIMIT_ANON_PER_SECOND, config.GANTRY_RATE_LIMIT_ANON_BURST);
    this.login = new LoginBackoff(config.GANTRY_LOGIN_FREE_ATTEMPTS);
  }

  credential(credentialId: string): void {
    this.perCredential.take(credentialId);
  }

  anonymous(key: string): void {
    this.perIp.take(key);
  }
}
