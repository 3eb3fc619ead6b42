import type { z } from 'zod';
import { RunControlSchema } from '#contracts';
import type { GantryClient } from '../client';
import { CliError, EXIT, messageOf } from '../errors';
import { backoffMs, Sleeper } from './backoff';

export type RunControl = z.infer<typeof RunControlSchema>;

const BATCH = 500;
const FLUSH_MS = 100;

/**
 * Sends a run's log lines to `POST /api/v1/runner/runs/{id}/log` in order, numbered from 1, in
 * batches. A failed send is retried with backoff; the server skips lines it already stored and
 * tells how many it has (`logLines`), so nothing is lost or doubled across a gateway restart.
 */
export class LogShipper {
  private readonly pending: { seq: number; text: string }[] = [];
  private nextSeq = 1;
  private closed = false;
  private failures = 0;
  private readonly sleeper = new Sleeper();
  private readonly loop: Promise<void>;
  /** The server refused the run for good (finished, not ours): stop sending. */
  private abandoned = false;

  constructor(
    private readonly client: GantryClient,
    private readonly runId: string,
    private readonly onControl: (control: RunControl) => void,
    private readonly say: (text: string) => void,
    private readonly giveUpAfterMs = 120000,
  ) {
    this.loop = this.run();
  }

  push(text: string): void {
    if (this.abandoned) return;
    this.pending.push({ seq: this.nextSeq++, text });
    if (this.pending.length >= BATCH) this.sleeper.wake();
  }

  /** Sends what is left; resolves when all is stored, or the server is given up on. */
  async close(): Promise<void> {
    this.closed = true;
    this.sleeper.wake();
    await this.loop;
  }

  get linesSent(): number {
    return this.nextSeq - 1 - this.pending.length;
  }

  private async run(): Promise<void> {
    let failingSince: number | null = null;
    for (;;) {
      if (this.pending.length === 0 || this.abandoned) {
        if (this.closed) return;
        await this.sleeper.sleep(FLUSH_MS);
        continue;
      }
      try {
        const lines = this.pending.slice(0, BATCH);
        const control = await this.client.json('POST', `/api/v1/runner/runs/${this.runId}/log`, RunControlSchema, { body: { lines } });
        while (this.pending.length > 0 && this.pending[0].seq <= control.logLines) this.pending.shift();
        if (this.failures > 0) this.say(`log delivery for run ${this.runId} resumed`);
        this.failures = 0;
        failingSince = null;
        this.onControl(control);
      } catch (error) {
        if (error instanceof CliError && (error.exitCode === EXIT.auth || error.exitCode === EXIT.notFound || /run_finished/.test(error.message))) {
          this.say(`log of run ${this.runId} refused: ${error.message}`);
          this.abandoned = true;
          this.pending.length = 0;
          this.onControl({ id: this.runId, status: 'cancelled', cancelRequested: true, logLines: 0 });
          continue;
        }
        failingSince ??= Date.now();
        if (this.failures++ === 0) this.say(`log delivery for run ${this.runId} failed, retrying: ${messageOf(error)}`);
        if (this.closed && Date.now() - failingSince > this.giveUpAfterMs) {
          this.say(`giving up on ${this.pending.length} log line(s) of run ${this.runId}`);
          return;
        }
        await this.sleeper.sleep(backoffMs(this.failures, 5000));
      }
    }
  }
}
