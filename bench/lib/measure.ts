import autocannon from 'autocannon';

export interface Measurement {
  name: string;
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
}

export interface LoadOptions {
  url: string;
  headers?: Record<string, string>;
  connections?: number;
  durationSec?: number;
}

/** Drives one URL with autocannon and keeps the numbers that matter. */
export async function measure(name: string, options: LoadOptions): Promise<Measurement> {
  const result = await autocannon({
    url: options.url,
    headers: options.headers,
    connections: options.connections ?? 32,
    duration: options.durationSec ?? 8,
  });
  return {
    name,
    requestsPerSec: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

/** Prints measurements side by side, each with its ratio to the first (the baseline). */
export function report(title: string, rows: Measurement[]): void {
  const [baseline] = rows;
  console.log(`\n## ${title}`);
  console.log('| scenario | req/s | p50 ms | p99 ms | non-2xx | errors | ratio to baseline |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const row of rows) {
    const ratio = (row.requestsPerSec / baseline.requestsPerSec).toFixed(2);
    console.log(`| ${row.name} | ${row.requestsPerSec.toFixed(0)} | ${row.p50Ms} | ${row.p99Ms} | ${row.non2xx} | ${row.errors} | ${ratio}× |`);
  }
}

/**
 * Runs every scenario `rounds` times, interleaved (A B C, A B C, …), and keeps each one's median
 * round: background noise on a shared 2-core machine then hits all scenarios alike.
 */
export async function measureInterleaved(scenarios: { name: string; options: LoadOptions }[], rounds: number): Promise<Measurement[]> {
  const results = new Map<string, Measurement[]>(scenarios.map((s) => [s.name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const scenario of scenarios) results.get(scenario.name)!.push(await measure(scenario.name, scenario.options));
  }
  return scenarios.map((s) => {
    const sorted = results.get(s.name)!.sort((a, b) => a.requestsPerSec - b.requestsPerSec);
    return sorted[Math.floor(sorted.length / 2)];
  });
}
