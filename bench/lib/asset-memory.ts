import { MIB } from './asset-io';
import type { TransferMode } from './asset-modes';
import { processRssKb } from './cpu';

export interface RssTrace {
  baselineKb: number;
  peakKb: number;
  samples: number;
  /** Longest time between two readings: this process's event loop also runs s3rver and the client. */
  maxGapMs: number;
}

/** VmRSS of `pid` read every `everyMs` while `run` runs, plus once before (the baseline) and after. */
export async function rssDuring(pid: number, run: () => Promise<void>, everyMs = 50): Promise<RssTrace> {
  const baselineKb = processRssKb(pid) ?? 0;
  let peakKb = baselineKb;
  let samples = 1;
  let last = Date.now();
  let maxGapMs = 0;
  const read = () => {
    const now = Date.now();
    maxGapMs = Math.max(maxGapMs, now - last);
    last = now;
    peakKb = Math.max(peakKb, processRssKb(pid) ?? 0);
    samples++;
  };
  const timer = setInterval(read, everyMs);
  try {
    await run();
  } finally {
    clearInterval(timer);
    read();
  }
  return { baselineKb, peakKb, samples, maxGapMs };
}

const mib = (kb: number) => (kb / 1024).toFixed(1);

/**
 * The gateway's memory during a small upload and a large one (and the large one's download). Run
 * before the throughput rows, after one small warm-up upload: a process's RSS rarely shrinks, so
 * once a GiB has gone through, a later GiB could not show memory that grows with the body.
 */
export async function measureMemory(gateway: TransferMode, gatewayPid: number, largeBytes: number, clear: () => Promise<void>): Promise<void> {
  const smallBytes = 64 * MIB;
  await gateway.upload('rss-warm-up', smallBytes);
  const small = await rssDuring(gatewayPid, () => gateway.upload('rss-small', smallBytes));
  const large = await rssDuring(gatewayPid, () => gateway.upload('rss-large', largeBytes));
  const download = await rssDuring(gatewayPid, () => gateway.download('rss-large', largeBytes, false));
  await clear();

  console.log(`\n## gateway A memory (VmRSS every 50 ms) during one upload of 64 MiB, then one of ${largeBytes / MIB} MiB`);
  console.log('| transfer | baseline MiB | peak MiB | increase MiB | readings | longest gap ms |');
  console.log('|---|---:|---:|---:|---:|---:|');
  const row = (name: string, t: RssTrace) => console.log(`| ${name} | ${mib(t.baselineKb)} | ${mib(t.peakKb)} | ${mib(t.peakKb - t.baselineKb)} | ${t.samples} | ${t.maxGapMs} |`);
  row('upload 64 MiB', small);
  row(`upload ${largeBytes / MIB} MiB`, large);
  row(`download ${largeBytes / MIB} MiB (for reference)`, download);
  // Peaks: what the goal is about is the memory a gateway needs, which includes what it holds
  // anyway. Increases are shown too; they are a few MiB of buffers and garbage-collector timing,
  // so their ratio swings widely for no change in the code.
  const peaks = large.peakKb / small.peakKb;
  const increases = (large.peakKb - large.baselineKb) / Math.max(1, small.peakKb - small.baselineKb);
  console.log(`peak ${largeBytes / MIB} MiB / peak 64 MiB: ${peaks.toFixed(2)}× (goal ≤ 1.2×); increase / increase: ${increases.toFixed(2)}× (${mib(large.peakKb - large.baselineKb)} vs ${mib(small.peakKb - small.baselineKb)} MiB)`);
}
