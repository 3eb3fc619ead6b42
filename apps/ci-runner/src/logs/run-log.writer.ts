import type { Logger } from 'pino';
import type { LogLine } from '#contracts';
import type { LogSink } from '../executor/executor';
import type { RunLogStore } from './run-log.store';

const FLUSH_MS = 20;
const MAX_BATCH = 5000;

/**
 * The log sink of one local execution: buffers lines for a few milliseconds, stores them in order
 * (one insert per batch) and then announces them live. Stored before announced, so live readers
 * can never get ahead of the database.
 */
export class RunLogWriter implements LogSink {
  private pending: string[] = [];
  private nextSeq = 1;
  private timer: NodeJS.Timeout | null = null;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly runId: string,
    private readonly store: RunLogStore,
    private readonly announce: (lines: LogLine[]) => void,
    private readonly logger: Logger,
  ) {}

  line(text: string): void {
    this.pending.push(text);
    if (this.pending.length >= MAX_BATCH) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), FLUSH_MS);
  }

  /** Stores everything written so far. */
  async close(): Promise<void> {
    this.flush();
    await this.chain;
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    const firstSeq = this.nextSeq;
    this.nextSeq += batch.length;
    this.chain = this.chain.then(() => this.write(firstSeq, batch));
  }

  private async write(firstSeq: number, texts: string[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return this.announce(await this.store.append(this.runId, firstSeq, texts));
      } catch (error) {
        // A database blip must not lose lines: retry (a retry of a stored batch is skipped by seq).
        if (attempt >= 5) return void this.logger.error({ err: error, runId: this.runId, lines: texts.length }, 'could not store log lines');
        await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
      }
    }
  }
}
