import autocannon from 'autocannon';
import { processCpuMicros } from './cpu';

export interface Measurement {
  name: string;
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
  /** CPU time the server process spent per request (user + system), when its pid is known. */
  cpuUsPerRequest: number | null;
}

export interface LoadOptions {
  url: string;
  headers?: Record<string, string>;
  connections?: number;
  durationSec?: number;
  /** The process serving `url`: its CPU time is read from /proc before and after the run. */
  serverPid?: number;
}

/** Drives one URL with autocannon and keeps the numbers that matter. */
export async function measure(name: string, options: LoadOptions): Promise<Measurement> {
  const cpuBefore = options.serverPid ? processCpuMicros(options.serverPid) : null;
  const result = await autocannon({
    url: options.url,
    headers: options.headers,
    connections: options.connections ?? 32,
    duration: options.durationSec ?? 8,
  });
  const cpuAfter = options.serverPid ? processCpuMicros(options.serverPid) : null;
  return {
    name,
    requestsPerSec: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    cpuUsPerRequest: cpuBefore === null || cpuAfter === null || result.requests.total === 0 ? null : (cpuAfter - cpuBefore) / result.requests.total,
  };
}

/**
 * Prints measurements side by side, each as a ratio to the first (the baseline): by requests per
 * second, and by server CPU per request (capacity per core, which does not depend on how fast the
 * load generator sharing this machine can go).
 */
export function report(title: string, rows: Measurement[]): void {
  const [baseline] = rows;
  const cpuRatio = (row: Measurement) =>
    row.cpuUsPerRequest && baseline.cpuUsPerRequest ? `${(baseline.cpuUsPerRequest / row.cpuUsPerRequest).toFixed(2)}×` : 'n/a';
  console.log(`\n## ${title}`);
  console.log('| scenario | req/s | p50 ms | p99 ms | non-2xx | errors | server CPU µs/req | ratio by req/s | ratio by CPU/req |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const row of rows) {
    const ratio = (row.requestsPerSec / baseline.requestsPerSec).toFixed(2);
    const cpu = row.cpuUsPerRequest === null ? 'n/a' : row.cpuUsPerRequest.toFixed(1);
    console.log(`| ${row.name} | ${row.requestsPerSec.toFixed(0)} | ${row.p50Ms} | ${row.p99Ms} | ${row.non2xx} | ${row.errors} | ${cpu} | ${ratio}× | ${cpuRatio(row)} |`);
  }
}

/**
 * Runs every scenario `rounds` times, interleaved (A B C, A B C, …), and keeps each one's median
 * round by req/s and its median CPU per request: background noise on a shared machine then hits
 * all scenarios alike.
 */
export async function measureInterleaved(scenarios: { name: string; options: LoadOptions }[], rounds: number): Promise<Measurement[]> {
  const results = new Map<string, Measurement[]>(scenarios.map((s) => [s.name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const scenario of scenarios) results.get(scenario.name)!.push(await measure(scenario.name, scenario.options));
  }
  return scenarios.map((s) => {
    const runs = results.get(s.name)!;
    const cpu = runs.map((run) => run.cpuUsPerRequest);
    return { ...median(runs, (run) => run.requestsPerSec), cpuUsPerRequest: cpu.includes(null) ? null : median(cpu as number[], (x) => x) };
  });
}

function median<T>(values: T[], by: (value: T) => number): T {
  return [...values].sort((a, b) => by(a) - by(b))[Math.floor(values.length / 2)];
}
