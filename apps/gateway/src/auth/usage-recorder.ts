import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';
import { IdentityRequests, type Principal } from '#contracts';
import { LOGGER, RpcClient } from '#platform';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config';

const ONE_MINUTE = 60_000;

/**
 * Last use of tokens (not sessions), sent to identity in batches: at most once a minute per token,
 * and never an event per request. Both maps hold only the last minute's tokens.
 */
@Injectable()
export class UsageRecorder implements OnModuleInit, OnApplicationShutdown {
  private pending = new Map<string, { at: number; ip: string | null }>();
  private readonly lastSent = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    @Inject(RpcClient) private readonly rpc: RpcClient,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.flush(), this.config.GANTRY_USAGE_FLUSH_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.flush();
  }

  record(principal: Principal, ip: string): void {
    if (principal.kind === 'session') return;
    const now = Date.now();
    if (now - (this.lastSent.get(principal.credentialId) ?? 0) < ONE_MINUTE) return;
    // Hot path: a number now, formatted once per flush.
    const entry = this.pending.get(principal.credentialId);
    if (entry) {
      entry.at = now;
      entry.ip = ip;
    } else {
      this.pending.set(principal.credentialId, { at: now, ip });
    }
  }

  /** Credentials whose last send is remembered (pruned on every flush). */
  get tracked(): number {
    return this.lastSent.size;
  }

  async flush(): Promise<void> {
    this.prune(Date.now());
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    const now = Date.now();
    for (const id of batch.keys()) this.lastSent.set(id, now);
    const uses = [...batch].map(([credentialId, use]) => ({ credentialId, at: new Date(use.at).toISOString(), ip: use.ip }));
    await this.rpc.request(IdentityRequests.touch, { uses }).catch((error: unknown) => {
      this.logger.warn({ err: error, count: uses.length }, 'could not record token usage');
    });
  }

  /** A send older than a minute no longer holds anything back: forgetting it bounds the map. */
  private prune(now: number): void {
    for (const [id, at] of this.lastSent) if (now - at >= ONE_MINUTE) this.lastSent.delete(id);
  }
}
