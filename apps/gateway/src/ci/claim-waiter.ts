import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { CiSignals } from '#contracts';
import { NATS_CONNECTION } from '#platform';

/** Runs also become claimable without a signal (a token retry's backoff ends): look again this often. */
const RECHECK_MS = 2000;

export interface Wakeup {
  /** Resolves true when woken (a run was queued), false at the deadline. */
  until(deadline: number): Promise<boolean>;
}

/**
 * Wakes long-polling claims when the ci-runner announces a run for remote runners. One
 * subscription per gateway; every waiting claim tries again (the database decides who gets it).
 */
@Injectable()
export class ClaimWaiter implements OnModuleInit, OnApplicationShutdown {
  private subscription: Subscription | null = null;
  private waiters = new Set<() => void>();

  constructor(@Inject(NATS_CONNECTION) private readonly nc: NatsConnection) {}

  onModuleInit(): void {
    this.subscription = this.nc.subscribe(CiSignals.remoteRunQueued.subject, {
      callback: () => {
        const waiting = this.waiters;
        this.waiters = new Set();
        for (const wake of waiting) wake();
      },
    });
  }

  onApplicationShutdown(): void {
    this.subscription?.unsubscribe();
    for (const wake of this.waiters) wake();
  }

  /** Arms a wake-up now; wait on it after the claim attempt. */
  next(): Wakeup {
    let woken = false;
    let resolveWoken: (() => void) | null = null;
    const wake = () => {
      woken = true;
      resolveWoken?.();
    };
    this.waiters.add(wake);
    return {
      until: (deadline) =>
        new Promise<boolean>((resolve) => {
          const remaining = deadline - Date.now();
          if (woken || remaining <= 0) return resolve(woken || false);
          const timer = setTimeout(() => {
            this.waiters.delete(wake);
            resolve(Date.now() < deadline); // a recheck before the deadline counts as a wake-up
          }, Math.min(remaining, RECHECK_MS));
          resolveWoken = () => {
            clearTimeout(timer);
            resolve(true);
          };
        }),
    };
  }
}
