import { describe, expect, it } from '@jest/globals';
import type { ServerResponse } from 'node:http';
import { PassThrough } from 'node:stream';
import type { LogLine, Run, RunStatus } from '#contracts';
import { RunEventStream, type LogPage } from './run-event-stream';
import { sseLogBatch } from './sse';

const line = (seq: number): LogLine => ({ seq, text: `line ${seq}` });
const lines = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => line(from + i));
const batch = (from: number, to: number) => ({ first: from, last: to, ...sseLogBatch(lines(from, to)) });
const run = (status: RunStatus) => ({ id: 'r', status }) as Run;

/** A stored log the test grows, and the page requests the stream made. */
class FakeSource {
  stored: LogLine[] = [];
  status: RunStatus = 'running';
  readonly requests: [number, number][] = [];
  /** Every line the database had to serve. */
  readonly served: number[] = [];
  async page(afterSeq: number, limit: number): Promise<LogPage> {
    this.requests.push([afterSeq, limit]);
    const page = this.stored.filter((l) => l.seq > afterSeq).slice(0, limit);
    this.served.push(...page.map((l) => l.seq));
    return { lines: page, status: this.status, logLines: this.stored.length };
  }
  async run(): Promise<Run> {
    return run(this.status);
  }
}

function client() {
  const response = new PassThrough();
  let text = '';
  response.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const seqs = () => [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
  const statuses = () => [...text.matchAll(/^event: status\ndata: (.*)$/gm)].map((m) => JSON.parse(m[1]).status as string);
  return { response: response as unknown as ServerResponse, seqs, statuses, text: () => text };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('RunEventStream', () => {
  it('writes a live batch overlapping what the database gave, and reads only the gap before one ahead', async () => {
    const source = new FakeSource();
    source.stored = lines(1, 1500);
    const { response, seqs, statuses } = client();
    const stream = new RunEventStream(response, source, 0, 60_000);
    stream.onLog(batch(1001, 1500)); // published while the client is at 0
    const done = stream.pump();
    await settle();
    await settle();
    expect(seqs()).toEqual(lines(1, 1500).map((l) => l.seq));
    expect(source.requests[0]).toEqual([0, 1000]); // stops where the held batch starts
    source.stored.push(...lines(1501, 1600));
    stream.onLog(batch(1401, 1600)); // overlaps what was sent
    await settle();
    expect(seqs().slice(-3)).toEqual([1598, 1599, 1600]);
    expect(new Set(seqs()).size).toBe(1600);
    expect(source.served).toEqual(lines(1, 1000).map((l) => l.seq)); // the live batches served the rest
    source.status = 'succeeded';
    stream.onStatus(run('succeeded'));
    await done;
    expect(statuses()).toEqual(['running', 'succeeded']);
  });

  it('resumes after Last-Event-ID from the database and closes after the final status', async () => {
    const source = new FakeSource();
    source.stored = lines(1, 30);
    source.status = 'failed';
    const { response, seqs, statuses, text } = client();
    await new RunEventStream(response, source, 25, 60_000).pump();
    expect(seqs()).toEqual([26, 27, 28, 29, 30]);
    expect(statuses()).toEqual(['failed']);
    expect(text().trimEnd().endsWith('}')).toBe(true); // the final status is the last event
  });

  it('reads the run after subscribing: a start published before the subscription is still reported', async () => {
    // The guard saw the run queued; it started (status published, no watcher yet) before the stream
    // subscribed. Lines follow; the client must still be told it is running.
    const source = new FakeSource();
    source.status = 'running';
    source.stored = lines(1, 3);
    const { response, seqs, statuses } = client();
    const stream = new RunEventStream(response, source, 0, 60_000);
    const done = stream.pump();
    await settle();
    await settle();
    expect(statuses()).toEqual(['running']);
    expect(seqs()).toEqual([1, 2, 3]);
    source.status = 'succeeded';
    stream.onStatus(run('succeeded'));
    await done;
    expect(statuses()).toEqual(['running', 'succeeded']);
  });
});
