import { MIB } from './asset-io';
import { rssDuring } from './asset-memory';
import type { TransferMode } from './asset-modes';
import { median, timed, mbPerSec, type Sample } from './asset-throughput';

interface Burst {
  sample: Sample;
  /** Why each failed upload failed (a status, or a size or sha256 that was not the body's). */
  failures: string[];
  peakRssKb: number;
}

/** `count` uploads started at once on their own connections; timed from the first start to the last answer. */
async function burst(mode: TransferMode, tag: string, count: number, bytes: number, gatewayPid: number): Promise<Burst> {
  let failures: string[] = [];
  let sample: Sample | undefined;
  const rss = await rssDuring(gatewayPid, async () => {
    sample = await timed(gatewayPid, count * bytes, async () => {
      const settled = await Promise.allSettled(Array.from({ length: count }, (_, i) => mode.upload(`${tag}-${i}`, bytes)));
      failures = settled.flatMap((s) => (s.status === 'rejected' ? [String(s.reason)] : []));
    });
  });
  return { sample: sample!, failures, peakRssKb: rss.peakKb };
}

/**
 * Row 3: `count` concurrent uploads through the gateway (each must answer 201 with the body's
 * size and sha256), with the same burst straight to S3 beside it, in interleaved rounds.
 * Returns false if any upload failed.
 */
export async function measureConcurrency(modes: { gateway: TransferMode; direct: TransferMode }, options: { count: number; bytes: number; rounds: number; gatewayPid: number; clear: () => Promise<void> }): Promise<boolean> {
  const { count, bytes, rounds, gatewayPid, clear } = options;
  const runs: Record<'gateway' | 'direct', Burst[]> = { gateway: [], direct: [] };
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? [modes.gateway, modes.direct] : [modes.direct, modes.gateway];
    for (const mode of order) runs[mode.name].push(await burst(mode, `burst-${round}-${mode.name}`, count, bytes, gatewayPid));
    await clear();
  }
  const failures = [...runs.gateway, ...runs.direct].flatMap((b) => b.failures);
  const ok = (b: Burst[]) => `${b.reduce((n, x) => n + count - x.failures.length, 0)}/${b.length * count}`;
  const rate = (b: Burst[]) => median(b.map((x) => mbPerSec(x.sample))).toFixed(0);
  const ratios = runs.gateway.map((g, round) => mbPerSec(g.sample) / mbPerSec(runs.direct[round].sample));
  const gatewayCpu = median(runs.gateway.map((g) => ((g.sample.gatewayCpuSec ?? 0) * 1024 * MIB) / g.sample.bytes));

  console.log(`\n## ${count} concurrent ${bytes / MIB} MiB uploads (median of ${rounds} interleaved rounds)`);
  console.log('| mode | aggregate MB/s | succeeded (gateway: 201 with the right size and sha256; direct: 200) | gateway CPU s/GiB | gateway peak RSS MiB |');
  console.log('|---|---:|---:|---:|---:|');
  console.log(`| direct presigned PUT | ${rate(runs.direct)} | ${ok(runs.direct)} | – | – |`);
  console.log(`| through gateway A | ${rate(runs.gateway)} | ${ok(runs.gateway)} | ${gatewayCpu.toFixed(2)} | ${(Math.max(...runs.gateway.map((g) => g.peakRssKb)) / 1024).toFixed(1)} |`);
  console.log(`gateway / direct by aggregate MB/s: ${median(ratios).toFixed(2)}× (rounds: ${ratios.map((r) => r.toFixed(2)).join(', ')})`);
  for (const failure of failures.slice(0, 5)) console.log(`FAILED: ${failure}`);
  return failures.length === 0;
}
