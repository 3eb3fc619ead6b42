import { performance } from 'node:perf_hooks';
import { MIB } from './asset-io';
import type { TransferMode } from './asset-modes';
import { cpuTicks, processCpuMicros } from './cpu';

const GIB = 1024 * MIB;

/** One timed transfer, and the CPU each side spent on it. */
export interface Sample {
  seconds: number;
  bytes: number;
  /** The gateway process (≈ 0 for a direct transfer: a check that it stayed out of the way). */
  gatewayCpuSec: number | null;
  /** This process: the client and s3rver, which startInfra runs in-process. */
  benchCpuSec: number;
  /** Each CPU's busy fraction meanwhile, whoever kept it busy (the kernel's loopback TCP and disk writeback too). */
  cpuBusy: number[] | null;
}

/** Runs `transfer` and reads the wall time and both processes' CPU time around it. */
export async function timed(gatewayPid: number, bytes: number, transfer: () => Promise<void>): Promise<Sample> {
  const gatewayBefore = processCpuMicros(gatewayPid);
  const benchBefore = process.cpuUsage();
  const ticksBefore = cpuTicks();
  const started = performance.now();
  await transfer();
  const seconds = (performance.now() - started) / 1000;
  const ticksAfter = cpuTicks();
  const bench = process.cpuUsage(benchBefore);
  const gatewayAfter = processCpuMicros(gatewayPid);
  const gatewayCpuSec = gatewayBefore === null || gatewayAfter === null ? null : (gatewayAfter - gatewayBefore) / 1e6;
  const cpuBusy = ticksBefore && ticksAfter && ticksAfter.map((after, i) => (after.busy - ticksBefore[i].busy) / Math.max(1, after.total - ticksBefore[i].total));
  return { seconds, bytes, gatewayCpuSec, benchCpuSec: (bench.user + bench.system) / 1e6, cpuBusy };
}

export const mbPerSec = (s: Sample) => s.bytes / 1e6 / s.seconds;
/** All CPU the transfer cost on this machine per GiB: client and S3 (this process) plus the gateway. */
const cpuPerGib = (s: Sample) => ((s.benchCpuSec + (s.gatewayCpuSec ?? 0)) * GIB) / s.bytes;

export function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
}

type Op = 'upload' | 'download';
export type Samples = Record<Op, Record<TransferMode['name'], Sample[]>>;

/**
 * Interleaved rounds of: upload with each mode, then download each upload, then S3 emptied. The
 * mode that goes first alternates by round, so neither always meets the disk right after the
 * other's GiB was written. One warm-up round first, not counted, whose downloads are verified.
 */
export async function measureTransfers(modes: TransferMode[], bytes: number, rounds: number, gatewayPid: number, clear: () => Promise<void>): Promise<Samples> {
  const samples: Samples = { upload: { gateway: [], direct: [] }, download: { gateway: [], direct: [] } };
  for (let round = -1; round < rounds; round++) {
    const order = round % 2 === 0 ? modes : [...modes].reverse();
    const key = (mode: TransferMode) => `throughput-${round + 1}-${mode.name}`;
    for (const mode of order) {
      const sample = await timed(gatewayPid, bytes, () => mode.upload(key(mode), bytes));
      if (round >= 0) samples.upload[mode.name].push(sample);
    }
    for (const mode of order) {
      const sample = await timed(gatewayPid, bytes, () => mode.download(key(mode), bytes, round < 0));
      if (round >= 0) samples.download[mode.name].push(sample);
    }
    await clear();
  }
  return samples;
}

const percent = (fraction: number) => `${(fraction * 100).toFixed(0)}%`;

/** "this process / CPU 0 / CPU 1 …" busy, medians over rounds. */
function busy(samples: Sample[]): string {
  const own = percent(median(samples.map((s) => s.benchCpuSec / s.seconds)));
  const perCpu = samples[0].cpuBusy?.map((_, cpu) => percent(median(samples.map((s) => s.cpuBusy![cpu])))) ?? ['n/a'];
  return [own, ...perCpu].join(' / ');
}

/**
 * A row per direction and mode: medians of each mode's rounds, and on the gateway's rows the
 * medians of the per-round ratios to the direct transfer of the same round.
 */
export function reportTransfers(title: string, samples: Samples): void {
  console.log(`\n## ${title}`);
  console.log('| transfer | MB/s | ratio by MB/s | gateway CPU s/GiB | all CPU s/GiB | ratio by CPU | busy: this process / CPU 0 / CPU 1 | per round: MB/s (ratio) |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---|');
  for (const op of ['upload', 'download'] as const) {
    const { gateway, direct } = samples[op];
    const size = `${(gateway[0].bytes / MIB).toFixed(0)} MiB ${op}`;
    const rate = (s: Sample[]) => median(s.map(mbPerSec)).toFixed(0);
    const allCpu = (s: Sample[]) => median(s.map(cpuPerGib)).toFixed(2);
    const ratios = gateway.map((g, round) => mbPerSec(g) / mbPerSec(direct[round]));
    const cpuRatio = median(gateway.map((g, round) => cpuPerGib(direct[round]) / cpuPerGib(g)));
    const perRound = (s: Sample[], ratio?: number[]) => s.map((x, round) => mbPerSec(x).toFixed(0) + (ratio ? ` (${ratio[round].toFixed(2)})` : '')).join(', ');
    const gatewayCpu = gateway.every((g) => g.gatewayCpuSec !== null) ? median(gateway.map((g) => (g.gatewayCpuSec! * GIB) / g.bytes)).toFixed(2) : 'n/a';
    console.log(`| ${size}, direct presigned | ${rate(direct)} | 1 (baseline) | – | ${allCpu(direct)} | 1 (baseline) | ${busy(direct)} | ${perRound(direct)} |`);
    console.log(`| ${size}, through gateway A | ${rate(gateway)} | ${median(ratios).toFixed(2)}× | ${gatewayCpu} | ${allCpu(gateway)} | ${cpuRatio.toFixed(2)}× | ${busy(gateway)} | ${perRound(gateway, ratios)} |`);
  }
}
