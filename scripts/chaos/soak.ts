import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { table } from './report';
import type { ChaosStack } from './topology';

/**
 * Samples every process of the stack once a second: RSS from /proc/<pid>/status and, for the Node
 * processes (each has a metrics listener here), prom-client's V8 heap used and event-loop lag p99.
 */
export interface Sample {
  t: number;
  rssMiB: number;
  heapMiB?: number;
  lagMs?: number;
}

/** A figure a trend is fitted to. */
export type Figure = 'rssMiB' | 'heapMiB';

export class Sampler {
  readonly series = new Map<string, Sample[]>();
  private timer: NodeJS.Timeout | null = null;
  private started = 0;
  readonly errors: string[] = [];

  constructor(private readonly stack: ChaosStack) {}

  start(intervalMs = 1000): void {
    this.started = Date.now();
    this.timer = setInterval(() => void this.sample(), intervalMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private async sample(): Promise<void> {
    const t = (Date.now() - this.started) / 1000;
    const targets: { name: string; pid: number; metricsPort?: number }[] = [
      ...[...this.stack.processes.values()].map((p) => ({ name: p.name, pid: p.proc.pid, metricsPort: p.metricsPort })),
      { name: 'nats-server', pid: this.stack.nats.pid },
    ];
    await Promise.all(
      targets.map(async ({ name, pid, metricsPort }) => {
        const rssMiB = rssOf(pid);
        if (rssMiB === null) {
          this.errors.push(`${name} (pid ${pid}) gone at ${t.toFixed(0)} s`);
          return;
        }
        const sample: Sample = { t, rssMiB };
        if (metricsPort) Object.assign(sample, await processFigures(metricsPort).catch(() => ({})));
        if (!this.series.has(name)) this.series.set(name, []);
        this.series.get(name)!.push(sample);
      }),
    );
  }

  /** Every sample as CSV (process, seconds, RSS MiB, lag p99 ms) in the temp dir; returns the path. */
  writeCsv(): string {
    const file = join(tmpdir(), `gantry-chaos-soak-${new Date(this.started).toISOString().replace(/[:.]/g, '-')}.csv`);
    const lines = ['process,t_s,rss_mib,heap_used_mib,lag_p99_ms'];
    for (const [name, samples] of this.series) {
      for (const s of samples) lines.push(`${name},${s.t.toFixed(1)},${s.rssMiB.toFixed(2)},${s.heapMiB?.toFixed(2) ?? ''},${s.lagMs?.toFixed(2) ?? ''}`);
    }
    writeFileSync(file, `${lines.join('\n')}\n`);
    return file;
  }

  /**
   * Per process: start/end/max RSS, least-squares slopes (all samples after the warm-up, their
   * second half, and the floor: the minimum of each 30 s window, which follows what survives
   * garbage collection rather than where the last collection happened to be), the same floor of
   * the V8 heap in use (60 s windows: old-generation collections are minutes apart), lag p99.
   * The heap is what a leak in our code grows; RSS also grows as the allocator and V8 keep pages
   * they freed, and nats-server's as JetStream caches the stream it stores.
   */
  summary(warmupSeconds: number): { rows: Trend[]; text: string } {
    const rows: Trend[] = [];
    for (const [name, samples] of this.series) {
      const steady = samples.filter((s) => s.t >= warmupSeconds);
      if (steady.length < 2) continue;
      const half = steady.filter((s) => s.t >= (steady[0].t + steady[steady.length - 1].t) / 2);
      const lags = samples.map((s) => s.lagMs).filter((v): v is number => v !== undefined).sort((a, b) => a - b);
      const heap = steady.filter((s) => s.heapMiB !== undefined);
      rows.push({
        name,
        startMiB: steady[0].rssMiB,
        endMiB: steady[steady.length - 1].rssMiB,
        maxMiB: Math.max(...samples.map((s) => s.rssMiB)),
        slope: slopePerMinute(steady),
        slopeSecondHalf: slopePerMinute(half),
        floorSlope: slopePerMinute(windowMinima(steady, 30)),
        heapStartMiB: heap[0]?.heapMiB,
        heapEndMiB: heap[heap.length - 1]?.heapMiB,
        heapFloorSlope: heap.length >= 2 ? slopePerMinute(windowMinima(heap, 60, 'heapMiB'), 'heapMiB') : undefined,
        lagMedianMs: lags.length ? lags[Math.floor(lags.length / 2)] : undefined,
        lagMaxMs: lags.length ? lags[lags.length - 1] : undefined,
        samples: samples.length,
      });
    }
    const f = (v: number) => v.toFixed(1);
    const text = table(
      [
        'process', 'samples', `RSS MiB at ${warmupSeconds}s`, 'end', 'max', 'slope MiB/min', '2nd half MiB/min', 'floor (30 s minima) MiB/min',
        `heap MiB at ${warmupSeconds}s`, 'heap end', 'heap floor (60 s minima) MiB/min', 'lag p99 median', 'lag p99 max',
      ],
      rows.map((r) => [
        r.name, String(r.samples), f(r.startMiB), f(r.endMiB), f(r.maxMiB), f(r.slope), f(r.slopeSecondHalf), f(r.floorSlope),
        r.heapStartMiB === undefined ? 'n/a' : f(r.heapStartMiB), r.heapEndMiB === undefined ? 'n/a' : f(r.heapEndMiB), r.heapFloorSlope === undefined ? 'n/a' : r.heapFloorSlope.toFixed(2),
        r.lagMedianMs === undefined ? 'n/a' : `${r.lagMedianMs.toFixed(1)} ms`, r.lagMaxMs === undefined ? 'n/a' : `${r.lagMaxMs.toFixed(1)} ms`,
      ]),
    );
    return { rows, text };
  }
}

export interface Trend {
  name: string;
  startMiB: number;
  endMiB: number;
  maxMiB: number;
  slope: number;
  slopeSecondHalf: number;
  floorSlope: number;
  heapStartMiB?: number;
  heapEndMiB?: number;
  /** MiB/min; undefined for a process without metrics (nats-server). */
  heapFloorSlope?: number;
  lagMedianMs?: number;
  lagMaxMs?: number;
  samples: number;
}

function rssOf(pid: number): number | null {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** Heap in use and event-loop lag p99 from a process's prom-client defaults (any prefix). */
async function processFigures(port: number): Promise<Pick<Sample, 'heapMiB' | 'lagMs'>> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(900) });
  const text = await response.text();
  const value = (name: string) => {
    const match = new RegExp(`^\\w*${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm').exec(text);
    return match ? Number(match[1]) : undefined;
  };
  const heap = value('nodejs_heap_size_used_bytes');
  const lag = value('nodejs_eventloop_lag_p99_seconds');
  return { heapMiB: heap === undefined ? undefined : heap / 2 ** 20, lagMs: lag === undefined ? undefined : lag * 1000 };
}

/**
 * The lowest sample of each `seconds`-long window by `figure` (placed at the window's middle).
 * Windows whose samples span less than half of it (the first and last, cut by the phase's start and
 * end) are left out: a minimum of a few samples is no floor.
 */
export function windowMinima(samples: Sample[], seconds: number, figure: Figure = 'rssMiB'): Sample[] {
  const windows = new Map<number, { low: Sample; first: number; last: number }>();
  for (const s of samples) {
    const key = Math.floor(s.t / seconds);
    const window = windows.get(key);
    if (!window) windows.set(key, { low: { ...s, t: (key + 0.5) * seconds }, first: s.t, last: s.t });
    else {
      window.last = s.t;
      if (s[figure]! < window.low[figure]!) window.low = { ...s, t: (key + 0.5) * seconds };
    }
  }
  return [...windows.values()].filter((w) => w.last - w.first >= seconds / 2).map((w) => w.low).sort((a, b) => a.t - b.t);
}

/** Least-squares slope of `figure` (RSS unless said) over time, in MiB per minute. */
export function slopePerMinute(samples: Sample[], figure: Figure = 'rssMiB'): number {
  const n = samples.length;
  if (n < 2) return 0;
  const mt = samples.reduce((s, x) => s + x.t, 0) / n;
  const mr = samples.reduce((s, x) => s + x[figure]!, 0) / n;
  let num = 0;
  let den = 0;
  for (const x of samples) {
    num += (x.t - mt) * (x[figure]! - mr);
    den += (x.t - mt) ** 2;
  }
  return den === 0 ? 0 : (num / den) * 60;
}
