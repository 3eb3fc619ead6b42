import { get } from 'node:http';
import { performance } from 'node:perf_hooks';
import { callJson, trigger, type CiContext } from './ci-api';
import { processCpuMicros, processRssKb } from './cpu';
import { SseCounter } from './sse-count';

export interface FanoutResult {
  lines: number;
  watchers: number;
  /** Log lines the run stored: its own and the executor's `[gantry] …` lines. */
  stored: number;
  /** Log lines received, summed over watchers. */
  delivered: number;
  /** Trigger → the last watcher's stream closed. */
  seconds: number;
  /** Trigger → each watcher's stream closed, sorted. */
  perWatcherSec: number[];
  /** Trigger → the run's end announced (every line stored by then). */
  runEndedSec: number;
  rss: Record<'gateway' | 'ci-runner', { baselineKb: number; peakKb: number }>;
  /** CPU seconds spent during the test by each process. */
  cpuSec: Record<'gateway' | 'ci-runner' | 'bench', number>;
  failures: string[];
}

/** Samples VmRSS every 100 ms; the peak includes a reading at start and at stop. */
function sampleRss(pid: number): { baselineKb: number; stop(): { baselineKb: number; peakKb: number } } {
  const baselineKb = processRssKb(pid) ?? 0;
  let peakKb = baselineKb;
  const read = () => (peakKb = Math.max(peakKb, processRssKb(pid) ?? 0));
  const timer = setInterval(read, 100);
  return { baselineKb, stop: () => (clearInterval(timer), read(), { baselineKb, peakKb }) };
}

/** One SSE client: every chunk goes through the counter; resolves when the server closes the stream. */
function watch(url: string, token: string, started: number): Promise<{ counter: SseCounter; closedSec: number; status: number }> {
  return new Promise((resolve, reject) => {
    const counter = new SseCounter();
    const request = get(url, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' } }, (response) => {
      response.on('data', (chunk: Buffer) => counter.push(chunk));
      response.on('end', () => resolve({ counter, closedSec: (performance.now() - started) / 1000, status: response.statusCode ?? 0 }));
      response.on('error', reject);
    });
    request.on('error', reject);
  });
}

/** What is wrong with one watcher's stream, if anything. */
function check(i: number, watched: { counter: SseCounter; status: number }, stored: number, lines: number): string | null {
  const { counter, status } = watched;
  if (status !== 200) return `watcher ${i}: HTTP ${status}`;
  if (counter.error) return `watcher ${i}: ${counter.error}`;
  if (counter.logEvents !== stored) return `watcher ${i}: ${counter.logEvents} log events, ${stored} stored`;
  if (counter.numbers !== lines) return `watcher ${i}: numbers 1…${counter.numbers} of 1…${lines}`;
  if (counter.lastStatus !== 'succeeded') return `watcher ${i}: last status ${counter.lastStatus}`;
  return null;
}

/**
 * A run printing `lines` lines, followed live by `watchers` SSE clients from this process, all
 * connected right after the trigger answers. Throughput is lines received by all watchers over the
 * time from the trigger until the last stream closed; the gateway's and ci-runner's memory are
 * sampled throughout, and every stream is checked: every line once, in order, then the final status.
 */
export async function measureFanout(ctx: CiContext, options: { lines: number; watchers: number; gatewayPid: number; ciRunnerPid: number }): Promise<FanoutResult> {
  const pids = { gateway: options.gatewayPid, 'ci-runner': options.ciRunnerPid };
  const cpuBefore = { gateway: processCpuMicros(pids.gateway) ?? 0, 'ci-runner': processCpuMicros(pids['ci-runner']) ?? 0, bench: process.cpuUsage() };
  const rss = { gateway: sampleRss(pids.gateway), 'ci-runner': sampleRss(pids['ci-runner']) };
  const started = performance.now();
  const id = await trigger(ctx, 'fanout');
  const streams = Array.from({ length: options.watchers }, () => watch(`${ctx.url}/api/v1/runs/${id}/events`, ctx.session, started));
  const ended = ctx.ends.wait(id, 600000);
  const watched = await Promise.all(streams);
  const seconds = (performance.now() - started) / 1000;
  const runEndedSec = ((await ended).at - started) / 1000;
  const bench = process.cpuUsage(cpuBefore.bench);
  const cpuSec = {
    gateway: ((processCpuMicros(pids.gateway) ?? 0) - cpuBefore.gateway) / 1e6,
    'ci-runner': ((processCpuMicros(pids['ci-runner']) ?? 0) - cpuBefore['ci-runner']) / 1e6,
    bench: (bench.user + bench.system) / 1e6,
  };
  const run = await callJson(`${ctx.url}/api/v1/runs/${id}`, ctx.session, 'GET');
  const stored = run.body.logLines as number;
  const failures = watched.map((w, i) => check(i, w, stored, options.lines)).filter((f): f is string => f !== null);
  return {
    lines: options.lines, watchers: options.watchers, stored, seconds, runEndedSec, cpuSec, failures,
    delivered: watched.reduce((sum, w) => sum + w.counter.logEvents, 0),
    perWatcherSec: watched.map((w) => w.closedSec).sort((a, b) => a - b),
    rss: { gateway: rss.gateway.stop(), 'ci-runner': rss['ci-runner'].stop() },
  };
}

const mib = (kb: number) => `${(kb / 1024).toFixed(0)} MiB`;

export function reportFanout(r: FanoutResult): void {
  const at = (q: number) => r.perWatcherSec[Math.min(r.perWatcherSec.length - 1, Math.floor(q * r.perWatcherSec.length))].toFixed(2);
  console.log(`\n## ${r.lines} lines to ${r.watchers} SSE watchers (one run, watchers connected right after the trigger; database analyzed first)`);
  console.log(`delivered: ${r.delivered} lines in ${r.seconds.toFixed(2)} s (trigger → last stream closed): ${(r.delivered / r.seconds).toFixed(0)} lines/s`);
  console.log(`per watcher, trigger → stream closed: min ${at(0)} s, p50 ${at(0.5)} s, max ${at(1)} s; the run ended (all lines stored) after ${r.runEndedSec.toFixed(2)} s`);
  for (const name of ['gateway', 'ci-runner'] as const) {
    const { baselineKb, peakKb } = r.rss[name];
    console.log(`${name} RSS: ${mib(baselineKb)} before, peak ${mib(peakKb)} (+${mib(peakKb - baselineKb)}); CPU ${r.cpuSec[name].toFixed(2)} s`);
  }
  console.log(`bench (the ${r.watchers} clients) CPU ${r.cpuSec.bench.toFixed(2)} s`);
  const verdict = r.failures.length === 0 ? 'yes' : `NO — ${r.failures.slice(0, 5).join('; ')}${r.failures.length > 5 ? ` (+${r.failures.length - 5} more)` : ''}`;
  console.log(`every watcher got all ${r.stored} stored lines (1…${r.lines} and the executor's own) exactly once, in order, then the final status: ${verdict}`);
}
