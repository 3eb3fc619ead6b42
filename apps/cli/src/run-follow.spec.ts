import { afterEach, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import { GantryClient } from './client';
import { exitCodeOfRun, followRun, sseEvents } from './run-follow';

const RUN_ID = '0192f5a0-0000-7000-8000-000000000001';
const run = (status: string, exitCode: number | null = null) => ({
  id: RUN_ID, repoId: '0192f5a0-0000-7000-8000-000000000002', repo: 'a/b', job: 'j', number: 1, status, params: {}, runsOn: 'local',
  timeoutSeconds: 60, createdAt: '2026-01-01T00:00:00.000Z', triggeredBy: { kind: 'user', id: 'u', name: 'u' }, startedAt: null, endedAt: null,
  exitCode, reason: null, runner: null, cancelRequested: false, logLines: 0,
});
const log = (seq: number) => `id: ${seq}\nevent: log\ndata: ${JSON.stringify({ seq, text: `line ${seq}` })}\n\n`;

describe('followRun: the run event stream, resumed after a drop', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  it('reconnects with Last-Event-ID: every line once, in order, then the final status', async () => {
    const seen: (string | undefined)[] = [];
    server = createServer((request, response) => {
      seen.push(request.headers['last-event-id'] as string | undefined);
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      if (seen.length === 1) {
        response.write(`retry: 2000\n\nevent: status\ndata: ${JSON.stringify(run('running'))}\n\n${log(1)}${log(2)}`);
        setTimeout(() => response.socket?.destroy(), 50); // the gateway goes away mid-stream
      } else {
        // A resumed stream may repeat a line the client already has: it must be skipped.
        response.end(`: keep-alive\n\n${log(2)}${log(3)}event: status\ndata: ${JSON.stringify(run('failed', 3))}\n\n`);
      }
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const lines: string[] = [];
    const statuses: string[] = [];
    const final = await followRun(new GantryClient({ url: `http://127.0.0.1:${port}`, token: 'gtp_x' }), RUN_ID, {
      line: (text) => lines.push(text),
      status: (r) => statuses.push(r.status),
    });
    expect(lines).toEqual(['line 1', 'line 2', 'line 3']);
    expect(seen).toEqual([undefined, '2']);
    expect(statuses).toEqual(['running', 'failed']);
    expect(exitCodeOfRun(final)).toBe(3);
  });
});

describe('sseEvents', () => {
  it('parses events split anywhere across chunks, CRLF too, skipping comments', async () => {
    const text = ': hi\r\nid: 7\r\nevent: log\r\ndata: {"a":1}\r\n\r\ndata: x\ndata: y\n\n';
    const chunks = text.match(/.{1,3}/gs)!.map((part) => Buffer.from(part));
    const events = [];
    for await (const event of sseEvents((async function* () { yield* chunks; })())) events.push(event);
    expect(events).toEqual([{ event: 'log', data: '{"a":1}', id: '7' }, { event: 'message', data: 'x\ny', id: undefined }]);
  });
});

describe('exitCodeOfRun', () => {
  it.each([
    ['succeeded', 0, 0], ['failed', 7, 7], ['failed', null, 1], ['timed_out', null, 124], ['cancelled', null, 130],
  ] as const)('%s (step exit %s) → %s', (status, exitCode, expected) => {
    expect(exitCodeOfRun({ status, exitCode })).toBe(expected);
  });
});
