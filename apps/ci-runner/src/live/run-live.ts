import { Inject, Injectable } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import { CiSignals, RunLive, type LogLine, type Run } from '#contracts';
import { NATS_CONNECTION } from '#platform';

/**
 * Core-NATS messages about runs, sent only after the data they announce is committed: a reader
 * that subscribes and then reads the database never misses a line (see RunLive).
 */
@Injectable()
export class RunLivePublisher {
  constructor(@Inject(NATS_CONNECTION) private readonly nc: NatsConnection) {}

  status(run: Run): void {
    this.publish(RunLive.status.subject(run.id), run);
  }

  log(runId: string, lines: LogLine[]): void {
    if (lines.length > 0) this.publish(RunLive.log.subject(runId), { lines });
  }

  cancel(runId: string): void {
    this.publish(RunLive.cancel.subject(runId), {});
  }

  remoteRunQueued(runId: string, labels: string[]): void {
    this.publish(CiSignals.remoteRunQueued.subject, { runId, labels });
  }

  /** Best effort: a reader that misses a message catches up from the database. */
  private publish(subject: string, payload: unknown): void {
    if (!this.nc.isClosed()) this.nc.publish(subject, JSON.stringify(payload));
  }
}
