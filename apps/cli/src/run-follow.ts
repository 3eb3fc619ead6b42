import { setTimeout as sleep } from 'node:timers/promises';
import { RunSchema, type Run } from '#contracts';
import type { GantryClient } from './client';
import { CliError, EXIT } from './errors';

export const isEnded = (run: Pick<Run, 'status'>) => run.status !== 'queued' && run.status !== 'running';

export interface FollowHandlers {
  line(text: string, seq: number): void;
  status(run: Run): void;
}

/**
 * Follows `GET /api/v1/runs/{id}/events` until the run's final status. A dropped stream (the
 * gateway restarted, the network blinked) is resumed with `Last-Event-ID`: no line twice, none
 * lost. Gives up after `maxFailures` failed reconnects in a row.
 */
export async function followRun(client: GantryClient, runId: string, handlers: FollowHandlers, options: { maxFailures?: number } = {}): Promise<Run> {
  let lastSeq = 0;
  let failures = 0;
  for (;;) {
    let final: Run | null = null;
    try {
      const response = await client.raw('GET', `/api/v1/runs/${runId}/events`, {
        headers: { accept: 'text/event-stream', ...(lastSeq > 0 ? { 'last-event-id': String(lastSeq) } : {}) },
      });
      failures = 0;
      for await (const event of sseEvents(response.body)) {
        if (event.event === 'log') {
          const { seq, text } = JSON.parse(event.data) as { seq: number; text: string };
          if (seq <= lastSeq) continue;
          lastSeq = seq;
          handlers.line(text, seq);
        } else if (event.event === 'status') {
          const run = RunSchema.parse(JSON.parse(event.data));
          handlers.status(run);
          if (isEnded(run)) final = run;
        }
      }
    } catch (error) {
      // 4xx answers are final (no access, no such run); anything else is worth another try.
      if (error instanceof CliError && (error.exitCode === EXIT.auth || error.exitCode === EXIT.notFound || error.exitCode === EXIT.usage)) throw error;
      if (++failures > (options.maxFailures ?? 30)) throw error;
    }
    if (final) return final;
    await sleep(Math.min(500 * 2 ** Math.min(failures, 4), 5000));
  }
}

export interface SseEvent {
  event: string;
  data: string;
  id?: string;
}

/** WHATWG event-stream parsing over a byte stream: fields, blank-line dispatch, comments skipped. */
export async function* sseEvents(body: AsyncIterable<Buffer | string>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  let current: { event?: string; data: string[]; id?: string } = { data: [] };
  for await (const chunk of body) {
    buffer += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = buffer.search(/\r\n|\r|\n/)) >= 0) {
      // A CR that ends the chunk may be the first half of a CRLF: wait for the next chunk.
      if (newline === buffer.length - 1 && buffer.endsWith('\r')) break;
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + (buffer.startsWith('\r\n', newline) ? 2 : 1));
      if (line === '') {
        if (current.data.length > 0) yield { event: current.event ?? 'message', data: current.data.join('\n'), id: current.id };
        current = { data: [] };
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'data') current.data.push(value);
      else if (field === 'event') current.event = value;
      else if (field === 'id') current.id = value;
    }
  }
}

/** The run's result as an exit code: 0 succeeded, the failing step's code (else 1), 124 timed out, 130 cancelled. */
export function exitCodeOfRun(run: Pick<Run, 'status' | 'exitCode'>): number {
  switch (run.status) {
    case 'succeeded':
      return 0;
    case 'timed_out':
      return 124;
    case 'cancelled':
      return 130;
    case 'failed':
      return run.exitCode !== null && run.exitCode > 0 && run.exitCode < 256 ? run.exitCode : 1;
    default:
      return EXIT.error;
  }
}
