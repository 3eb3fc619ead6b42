import pg from 'pg';

export interface PgListenerOptions {
  url: string;
  channel: string;
  /** Called on every notification, and once after each (re)connect: something may have been missed. */
  onNotify: () => void;
  /** Called when the connection is lost or a reconnect fails (for logging). */
  onError?: (error: Error) => void;
}

const MAX_BACKOFF_MS = 5000;

/**
 * One LISTEN connection that stays up: when PostgreSQL goes away it is ended and replaced, with
 * backoff, until it succeeds or stop() is called. Never more than one client at a time.
 */
export class PgListener {
  private client: pg.Client | null = null;
  private stopped = false;
  private retry: NodeJS.Timeout | null = null;
  private failures = 0;

  constructor(private readonly options: PgListenerOptions) {}

  async start(): Promise<void> {
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.options.url });
    client.on('notification', () => this.options.onNotify());
    // 'error' can fire more than once per lost connection: only the current client reconnects.
    client.on('error', (error) => this.lost(client, error));
    try {
      await client.connect();
      await client.query(`LISTEN "${this.options.channel.replace(/"/g, '')}"`);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    if (this.stopped) return void (await client.end().catch(() => undefined));
    this.client = client;
    this.failures = 0;
    this.options.onNotify();
  }

  private lost(client: pg.Client, error: Error): void {
    if (this.client !== client) return;
    this.client = null;
    void client.end().catch(() => undefined);
    this.options.onError?.(error);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.retry) return;
    const delay = Math.min(MAX_BACKOFF_MS, 100 * 2 ** this.failures++);
    this.retry = setTimeout(() => {
      this.retry = null;
      this.connect().catch((error: Error) => {
        this.options.onError?.(error);
        this.scheduleReconnect();
      });
    }, delay);
  }
}
