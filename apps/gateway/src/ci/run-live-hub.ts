import { Inject, Injectable } from '@nestjs/common';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { RunLive, type LogLine, type Run } from '#contracts';
import { NATS_CONNECTION } from '#platform';
import { sseLogBatch } from './sse';

/** New lines of a run, already in SSE form: formatted once however many watch. */
export interface LiveBatch {
  first: number;
  last: number;
  events: string;
  /** Where the event of line `first + i` starts in `events`. */
  offsets: number[];
}

export interface RunWatcher {
  onLog(batch: LiveBatch): void;
  onStatus(run: Run): void;
}

interface Watched {
  subscriptions: Subscription[];
  watchers: Set<RunWatcher>;
}

/**
 * One NATS subscription per watched run in this gateway, however many clients follow it: each live
 * message is parsed and formatted once, then handed to every watcher.
 */
@Injectable()
export class RunLiveHub {
  private readonly runs = new Map<string, Watched>();

  constructor(@Inject(NATS_CONNECTION) private readonly nc: NatsConnection) {}

  /** Starts delivering the run's live messages to `watcher`; returns the function that stops it. */
  watch(runId: string, watcher: RunWatcher): () => void {
    let watched = this.runs.get(runId);
    if (!watched) {
      const watchers = new Set<RunWatcher>();
      watched = { watchers, subscriptions: [this.subscribeLog(runId, watchers), this.subscribeStatus(runId, watchers)] };
      this.runs.set(runId, watched);
    }
    watched.watchers.add(watcher);
    return () => {
      watched.watchers.delete(watcher);
      if (watched.watchers.size === 0 && this.runs.get(runId) === watched) {
        for (const subscription of watched.subscriptions) subscription.unsubscribe();
        this.runs.delete(runId);
      }
    };
  }

  /** Resolves once the subscriptions are known to the server (nothing published after is missed). */
  flush(): Promise<void> {
    return this.nc.flush();
  }

  private subscribeLog(runId: string, watchers: Set<RunWatcher>): Subscription {
    return this.nc.subscribe(RunLive.log.subject(runId), {
      callback: (error, message) => {
        if (error) return;
        const parsed = RunLive.log.schema.safeParse(message.json());
        if (!parsed.success || parsed.data.lines.length === 0) return;
        const lines: LogLine[] = parsed.data.lines;
        const batch = { first: lines[0].seq, last: lines[lines.length - 1].seq, ...sseLogBatch(lines) };
        for (const watcher of watchers) watcher.onLog(batch);
      },
    });
  }

  private subscribeStatus(runId: string, watchers: Set<RunWatcher>): Subscription {
    return this.nc.subscribe(RunLive.status.subject(runId), {
      callback: (error, message) => {
        if (error) return;
        const parsed = RunLive.status.schema.safeParse(message.json());
        if (parsed.success) for (const watcher of watchers) watcher.onStatus(parsed.data);
      },
    });
  }
}
