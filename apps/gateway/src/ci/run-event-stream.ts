import type { ServerResponse } from 'node:http';
import type { LogLine, Run, RunStatus } from '#contracts';
import type { LiveBatch, RunWatcher } from './run-live-hub';
import { SSE_HEARTBEAT, SSE_RETRY, sseLogEvents, sseStatusEvent } from './sse';

export interface LogPage {
  lines: LogLine[];
  status: RunStatus;
  logLines: number;
}

export interface RunEventSource {
  /** Stored lines after `afterSeq`, at most `limit` (from the ci-runner). */
  page(afterSeq: number, limit: number): Promise<LogPage>;
  /** The run as it is now. */
  run(): Promise<Run>;
}

/**
 * Live lines held for a client that is behind; past this it reads from the database instead. The
 * batches are shared by every client of the run (formatted once by the hub), so holding costs a
 * reference per batch, and a gateway holds at most this many lines of each watched run.
 */
const MAX_HELD_LINES = 100_000;
/** Lines per database page (the ci-runner also caps a page at about 512 KiB). */
const PAGE_LINES = 5000;

const ended = (status: RunStatus) => status !== 'queued' && status !== 'running';

/**
 * One client following a run. The live subscription is made before the first database read, and
 * lines are published only after they are stored, so: held live batches that continue where the
 * client is (or overlap it) are written straight away; only the gap before the next held batch (a
 * resume from Last-Event-ID, a client slowed by backpressure, a dropped message) is read from the
 * database, in pages that stop where that batch starts. No gap, no duplicate, and memory
 * per client stays bounded. Status events go out as the status changes; the final one after the
 * last line, and then the stream closes.
 */
export class RunEventStream implements RunWatcher {
  private sent: number;
  private held: LiveBatch[] = [];
  private heldLines = 0;
  private statusSent: RunStatus | null = null;
  private pendingStatus: Run | null = null;
  private wakeUp: (() => void) | null = null;
  private closed = false;

  constructor(
    private readonly raw: ServerResponse,
    private readonly source: RunEventSource,
    lastEventId: number,
    private readonly heartbeatMs: number,
  ) {
    this.sent = lastEventId;
    raw.on('close', () => this.close());
  }

  onLog(batch: LiveBatch): void {
    if (this.heldLines + batch.last - batch.first + 1 > MAX_HELD_LINES) {
      this.held = []; // too far behind: the database has them all
      this.heldLines = 0;
    } else {
      this.held.push(batch);
      this.heldLines += batch.last - batch.first + 1;
    }
    this.wakeUp?.();
  }

  onStatus(run: Run): void {
    this.pendingStatus = run;
    this.wakeUp?.();
  }

  /**
   * Streams until the run has ended and everything is sent, or the client goes away. Call it once
   * subscribed: the run is read here, after the subscription, so a status change published before
   * it (the run starting while the request was being authorized) is not missed.
   */
  async pump(): Promise<void> {
    await this.write(SSE_RETRY);
    const current = await this.source.run();
    this.pendingStatus ??= current; // a live status that came in meanwhile is as new or newer
    while (!this.closed) {
      // The final status goes out after the last line (below), never before it.
      if (this.pendingStatus && !ended(this.pendingStatus.status)) await this.sendStatus(this.pendingStatus);
      this.pendingStatus = null;
      if (await this.writeHeld()) continue;
      const nextHeld = this.held[0]?.first;
      const page = await this.source.page(this.sent, nextHeld === undefined ? PAGE_LINES : Math.min(PAGE_LINES, nextHeld - 1 - this.sent));
      if (page.lines.length > 0) {
        await this.write(sseLogEvents(page.lines));
        this.sent = page.lines[page.lines.length - 1].seq;
      } else if (ended(page.status) && this.sent >= page.logLines) {
        if (this.statusSent !== page.status) await this.sendStatus(await this.source.run());
        break;
      } else {
        await this.idle();
      }
    }
    this.close();
    this.raw.end();
  }

  /**
   * Writes the first held batch if it continues where the client is (the part not sent yet);
   * drops batches already sent. A batch further ahead waits until the database has filled the gap.
   */
  private async writeHeld(): Promise<boolean> {
    while (this.held.length > 0) {
      const batch = this.held[0];
      if (batch.first > this.sent + 1) return false;
      this.held.shift();
      this.heldLines -= batch.last - batch.first + 1;
      if (batch.last <= this.sent) continue;
      const unsent = this.sent + 1 - batch.first;
      await this.write(unsent === 0 ? batch.events : batch.events.slice(batch.offsets[unsent]));
      this.sent = batch.last;
      return true;
    }
    return false;
  }

  private async sendStatus(run: Run): Promise<void> {
    if (run.status === this.statusSent) return;
    this.statusSent = run.status;
    await this.write(sseStatusEvent(run));
  }

  /** Waits for a live message; writes a heartbeat comment when none comes in time. */
  private idle(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wakeUp = null;
        void this.write(SSE_HEARTBEAT).then(resolve);
      }, this.heartbeatMs);
      this.wakeUp = () => {
        clearTimeout(timer);
        this.wakeUp = null;
        resolve();
      };
    });
  }

  /** Writes with backpressure: waits for 'drain' (or the client closing). */
  private write(chunk: string): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.raw.write(chunk)) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.raw.off('drain', done);
        this.raw.off('close', done);
        resolve();
      };
      this.raw.once('drain', done);
      this.raw.once('close', done);
    });
  }

  private close(): void {
    this.closed = true;
    this.wakeUp?.();
  }
}
