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

/** A scenario's median round, with its ratios to the baseline (the first scenario). */
export interface Row extends Measurement {
  /** Median over rounds of this round's req/s ÷ the baseline's req/s in the same round. */
  throughputRatio: number;
  /** Median over rounds of the baseline's CPU µs/request ÷ this one's in the same round. */
  cpuRatio: number | null;
}

/**
 * Prints measurements side by side, each as a ratio to the first (the baseline): by requests per
 * second, and by server CPU per request (capacity per core, which does not depend on how fast the
 * load generator sharing this machine can go).
 */
export function report(title: string, rows: Row[]): void {
  console.log(`\n## ${title}`);
  console.log('| scenario | req/s | p50 ms | p99 ms | non-2xx | errors | server CPU µs/req | ratio by req/s | ratio by CPU/req |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const row of rows) {
    const cpu = row.cpuUsPerRequest === null ? 'n/a' : row.cpuUsPerRequest.toFixed(1);
    const cpuRatio = row.cpuRatio === null ? 'n/a' : `${row.cpuRatio.toFixed(2)}×`;
    console.log(`| ${row.name} | ${row.requestsPerSec.toFixed(0)} | ${row.p50Ms} | ${row.p99Ms} | ${row.non2xx} | ${row.errors} | ${cpu} | ${row.throughputRatio.toFixed(2)}× | ${cpuRatio} |`);
  }
}

/**
 * Runs every scenario `rounds` times, interleaved (A B C, A B C, …). Each scenario reports its
 * median round, and ratios taken within each round, then the median of those: a burst of
 * background load on a shared machine then skews one round's pairs, not a whole column.
 */
export async function measureInterleaved(scenarios: { name: string; options: LoadOptions }[], rounds: number): Promise<Row[]> {
  const runs: Measurement[][] = scenarios.map(() => []);
  for (let round = 0; round < rounds; round++) {
    for (const [i, scenario] of scenarios.entries()) runs[i].push(await measure(scenario.name, scenario.options));
  }
  const [baseline] = runs;
  return runs.map((own) => ({
    ...[...own].sort((x, y) => x.requestsPerSec - y.requestsPerSec)[Math.floor(own.length / 2)], // a copy: `own` keeps round order
    cpuUsPerRequest: median(own.map((run) => run.cpuUsPerRequest)),
    throughputRatio: median(own.map((run, round) => run.requestsPerSec / baseline[round].requestsPerSec))!,
    cpuRatio: median(own.map((run, round) => perRequestRatio(baseline[round].cpuUsPerRequest, run.cpuUsPerRequest))),
  }));
}

/** The baseline's CPU per request over this one's: how many of this fit where one baseline does. */
function perRequestRatio(baseline: number | null, own: number | null): number | null {
  return baseline && own ? baseline / own : null;
}

/** The median, or null when any value is unknown. */
function median(values: (number | null)[]): number | null {
  if (values.includes(null)) return null;
  return (values as number[]).sort((a, b) => a - b)[Math.floor(values.length / 2)];
}
