/** Waits that grow: 0.5 s, 1 s, 2 s … up to `maxMs`, with ±20 % jitter so runners do not stampede a restarted gateway. */
export function backoffMs(attempt: number, maxMs = 15000): number {
  const base = Math.min(maxMs, 500 * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

/** A sleep that `wake()` ends early (shutdown must not wait out a backoff). */
export class Sleeper {
  private wakeUp: (() => void) | null = null;

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(timer);
        if (self.wakeUp === done) self.wakeUp = null;
        resolve();
      }
      this.wakeUp = done;
    });
  }

  wake(): void {
    this.wakeUp?.();
  }
}
