import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { IdentitySignals, INVALIDATION_ACK_TIMEOUT_MS } from '#contracts';
import { NATS_CONNECTION } from '#platform';

const TICK_MS = 100;
/** Half of identity's ack wait: a gateway stalled longer flushes before it serves (see the contract). */
const STALL_MS = INVALIDATION_ACK_TIMEOUT_MS / 2;
const MISSED_BEATS = 3;

/**
 * Whether this gateway's caches can be trusted right now. They cannot when it may have missed an
 * invalidation: its NATS connection is down (until it is back), identity's heartbeat has not been
 * heard for three intervals, or its own event loop stood still (a paused or swapped-out process
 * resumes with requests and invalidations queued in unknown order). Then cached credentials and
 * repository grants are flushed once and bypassed — identity answers each request, or the gateway
 * answers 503 when it cannot — until things are normal again.
 *
 * Checked on every request: two comparisons against `now`, no allocation.
 */
@Injectable()
export class AuthFreshness implements OnModuleInit, OnApplicationShutdown {
  private lastTick = Date.now();
  private lastBeat = 0;
  private beatIntervalMs = 1000;
  private connected = true;
  private stale = true;
  private readonly flushers: (() => void)[] = [];
  private ticker: NodeJS.Timeout | null = null;
  private subscription: Subscription | null = null;

  constructor(@Inject(NATS_CONNECTION) private readonly nc: NatsConnection) {}

  onModuleInit(): void {
    this.ticker = setInterval(() => (this.lastTick = Date.now()), TICK_MS);
    this.ticker.unref();
    this.subscription = this.nc.subscribe(IdentitySignals.presence.subject, {
      callback: (_, message) => {
        const beat = IdentitySignals.presence.schema.safeParse(safeJson(message.string()));
        if (!beat.success) return;
        this.beatIntervalMs = beat.data.intervalMs;
        this.lastBeat = Date.now();
      },
    });
    void this.watchConnection();
  }

  onApplicationShutdown(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.subscription?.unsubscribe();
  }

  /** Registers what to flush when the caches stop being trustworthy. */
  onStale(flush: () => void): void {
    this.flushers.push(flush);
  }

  /** True when cached answers may be used; on the way to false, flushes them once. */
  fresh(now: number): boolean {
    const fresh = this.connected && now - this.lastTick <= STALL_MS && now - this.lastBeat <= this.beatIntervalMs * MISSED_BEATS;
    if (!fresh && !this.stale) for (const flush of this.flushers) flush();
    this.stale = !fresh;
    return fresh;
  }

  private async watchConnection(): Promise<void> {
    for await (const status of this.nc.status()) {
      if (status.type === 'disconnect') {
        this.connected = false;
        this.fresh(Date.now());
      } else if (status.type === 'reconnect') {
        this.connected = true;
      }
    }
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
