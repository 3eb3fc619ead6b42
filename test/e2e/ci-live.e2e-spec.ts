import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Api } from '../support/api';
import { Ci } from '../support/ci';
import { startGantry, type GantryStack } from '../support/gantry-stack';
import { readSse, type SseEvent } from '../support/sse';

const logSeqs = (events: SseEvent[]) => events.filter((e) => e.event === 'log').map((e) => Number(e.id));
const statuses = (events: SseEvent[]) => events.filter((e) => e.event === 'status').map((e) => JSON.parse(e.data).status as string);
const consecutive = (seqs: number[], from: number) => seqs.every((seq, i) => seq === from + i);

describe('following a run: Server-Sent Events and the stored log', () => {
  let stack: GantryStack;
  let api: Api;
  let ci: Ci;
  let admin: string;
  let repo: string;
  let auth: Record<string, string>;

  beforeAll(async () => {
    stack = await startGantry({ env: { GANTRY_SSE_HEARTBEAT_MS: '200' } });
    api = new Api(stack);
    ci = new Ci(api);
    admin = await api.login(stack.admin.username, stack.admin.password);
    auth = { authorization: `Bearer ${admin}` };
    repo = (await ci.repo(admin, 'live')).fullName;
    await ci.job(admin, repo, 'ten-thousand', { steps: [{ run: 'seq 1 4000; sleep 1; seq 4001 10000' }] });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const events = (runId: string) => `${stack.url}/api/v1/runs/${runId}/events`;

  it('streams every line live, in order, then the final status, and closes', async () => {
    const run = await ci.trigger(admin, repo, 'ten-thousand');
    const stream = await readSse(events(run.id), auth);
    expect(stream.status).toBe(200);
    expect(stream.contentType).toMatch(/^text\/event-stream/);
    expect(stream.closedByServer).toBe(true);
    const seqs = logSeqs(stream.events);
    expect(consecutive(seqs, 1)).toBe(true);
    const lines = stream.events.filter((e) => e.event === 'log').map((e) => JSON.parse(e.data).text as string);
    expect(lines.filter((text) => /^\d+$/.test(text))).toEqual(Array.from({ length: 10000 }, (_, i) => String(i + 1)));
    expect(statuses(stream.events).at(-1)).toBe('succeeded');
    expect(stream.events.at(-1)!.event).toBe('status');
    const done = await ci.until(admin, run.id);
    expect(seqs.length).toBe(done.logLines);
  });

  it('resumes from the middle with Last-Event-ID while the run goes on: no gap, no duplicate', async () => {
    const run = await ci.trigger(admin, repo, 'ten-thousand');
    const first = await readSse(events(run.id), auth, { stop: (event) => event.event === 'log' && Number(event.id) >= 2000 });
    const firstSeqs = logSeqs(first.events);
    const last = firstSeqs.at(-1)!;
    const second = await readSse(events(run.id), { ...auth, 'last-event-id': String(last) });
    const secondSeqs = logSeqs(second.events);
    expect(consecutive([...firstSeqs, ...secondSeqs], 1)).toBe(true);
    expect(second.closedByServer).toBe(true);
    expect(statuses(second.events).at(-1)).toBe('succeeded');
  });

  it('after the run ended, a resume gets the backlog from there and the stream closes', async () => {
    const run = await ci.trigger(admin, repo, 'ten-thousand');
    const done = await ci.until(admin, run.id);
    const stream = await readSse(events(run.id), { ...auth, 'last-event-id': '5000' });
    const seqs = logSeqs(stream.events);
    expect(seqs[0]).toBe(5001);
    expect(consecutive(seqs, 5001)).toBe(true);
    expect(seqs.at(-1)).toBe(done.logLines);
    expect(statuses(stream.events)).toEqual(['succeeded']);
    expect(stream.closedByServer).toBe(true);
  });

  it('keeps an idle stream open with heartbeat comments', async () => {
    await ci.job(admin, repo, 'quiet', { steps: [{ run: 'sleep 1.5' }] });
    const run = await ci.trigger(admin, repo, 'quiet');
    const stream = await readSse(events(run.id), auth);
    expect(stream.comments).toBeGreaterThanOrEqual(3);
    expect(statuses(stream.events).at(-1)).toBe('succeeded');
  });

  it('GET /runs/{id}/log is the stored log as plain text', async () => {
    const run = await ci.trigger(admin, repo, 'ten-thousand');
    await ci.until(admin, run.id);
    const text = await ci.log(admin, run.id);
    const numbers = text.split('\n').filter((line) => /^\d+$/.test(line));
    expect(numbers.length).toBe(10000);
    expect(numbers[9999]).toBe('10000');
  });
});
