import type { LogLine, Run } from '#contracts';

/**
 * Server-Sent Events as the WHATWG format has them. Data is JSON, so a line's own CR or LF can
 * never end an event early. Log events carry the line's sequence number as their id (what
 * `Last-Event-ID` resumes from); status events carry none, so they never move it.
 */
export function sseLogEvents(lines: readonly LogLine[]): string {
  return sseLogBatch(lines).events;
}

/** The events of consecutive lines, and where each line's event starts (to send a tail of them). */
export function sseLogBatch(lines: readonly LogLine[]): { events: string; offsets: number[] } {
  let events = '';
  const offsets: number[] = [];
  for (const line of lines) {
    offsets.push(events.length);
    events += `id: ${line.seq}\nevent: log\ndata: ${JSON.stringify(line)}\n\n`;
  }
  return { events, offsets };
}

export function sseStatusEvent(run: Run): string {
  return `event: status\ndata: ${JSON.stringify(run)}\n\n`;
}

export const SSE_HEARTBEAT = ': keep-alive\n\n';

/** How soon a client should reconnect after the stream drops. */
export const SSE_RETRY = 'retry: 2000\n\n';

/** `Last-Event-ID` as a log sequence number (0: from the start). */
export function lastEventIdOf(header: string | string[] | undefined): number {
  const value = Array.isArray(header) ? header[0] : header;
  const seq = value !== undefined && /^\d{1,9}$/.test(value.trim()) ? Number(value.trim()) : 0;
  return seq;
}
