import { statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { bodySha256, MIB } from './asset-io';
import { measureConcurrency } from './asset-concurrency';
import { measureMemory } from './asset-memory';
import { assetModes } from './asset-modes';
import { measureTransfers, reportTransfers } from './asset-throughput';
import type { BenchStack } from './bench-stack';
import { createRepo } from './ci-api';
import { cpusAllowed, listenerPid } from './cpu';

const BURST_COUNT = 20;
const BURST_BYTES = 50 * MIB;

/**
 * s3rver keeps objects as files under the bench's data directory (in tmpdir). S3 is emptied after
 * every round; a round holds at most two large bodies, or both modes' bursts.
 */
function checkDisk(largeBytes: number): void {
  const needed = Math.max(2 * largeBytes, 2 * BURST_COUNT * BURST_BYTES) + 1024 * MIB; // + headroom for everything else
  const { bavail, bsize } = statfsSync(tmpdir());
  if (bavail * bsize < needed) throw new Error(`assets bench: ${tmpdir()} has ${(bavail * bsize / MIB).toFixed(0)} MiB free, needs ${(needed / MIB).toFixed(0)}`);
}

/**
 * Where each side runs, read from /proc rather than assumed. startInfra runs s3rver inside this
 * process, so S3 shares CPU 0 with the clients in both modes: it may be the bottleneck of both,
 * which leaves the ratio (the goal) meaningful.
 */
function describePlacement(stack: BenchStack, pinned: boolean): void {
  const s3Pid = listenerPid(Number(new URL(stack.s3.endpoint).port));
  const where = s3Pid === process.pid ? 'inside this process (startInfra runs s3rver in-process)' : s3Pid === null ? 'in a process not found' : `in pid ${s3Pid}`;
  const cpus = (pid: number | null) => (pid === null ? '?' : cpusAllowed(pid) ?? '?');
  console.log(`\nassets: ${pinned ? 'pinned' : 'not pinned (one CPU or no taskset): expect noisier ratios'}; gateway A on CPU ${cpus(stack.gatewayPids[0])}; `
    + `the clients (this process) on CPU ${cpus(process.pid)}; S3 (s3rver) ${where}, on CPU ${cpus(s3Pid)}, `
    + 'so S3 competes with the clients for one core in both modes and may bound both');
}

/**
 * The assets section of `npm run bench`: gateway A against a direct presigned transfer to the same
 * S3 server. BENCH_ASSET_MIB (1024) and BENCH_ASSET_ROUNDS (3) tune it. Returns false if a check failed.
 */
export async function benchAssets(stack: BenchStack, session: string, pinned: boolean): Promise<boolean> {
  const largeBytes = Number(process.env.BENCH_ASSET_MIB ?? 1024) * MIB;
  const rounds = Number(process.env.BENCH_ASSET_ROUNDS ?? 3);
  checkDisk(largeBytes);
  describePlacement(stack, pinned);
  const url = stack.gatewayUrls[0];
  const gatewayPid = stack.gatewayPids[0];
  const repo = await createRepo(url, session, `bench-assets-${Date.now()}`);
  const modes = assetModes(stack, { url, session, repo });
  // Hashed once up front, so no timed transfer waits on this process hashing its expected digest.
  for (const bytes of [largeBytes, 64 * MIB, BURST_BYTES]) bodySha256(bytes);

  await measureMemory(modes.gateway, gatewayPid, largeBytes, modes.clear);
  const samples = await measureTransfers([modes.gateway, modes.direct], largeBytes, rounds, gatewayPid, modes.clear);
  reportTransfers(`${largeBytes / MIB} MiB through gateway A vs a direct presigned transfer to the same S3 (median of ${rounds} interleaved rounds after a verified warm-up; goal ≥ 0.8×, moonshot 0.9×)`, samples);
  console.log('all CPU: what a GiB costs this process (client + s3rver) and the gateway; ratio by CPU: direct ÷ via gateway. '
    + 'busy: CPU time over wall time; a CPU at 100% is the bottleneck (CPU 0 also runs PostgreSQL, NATS, identity, assets, and loopback TCP work is charged to the sender); '
    + 'CPU 1 busy in a direct row is load from outside the bench (the gateway is idle then)');
  return measureConcurrency(modes, { count: BURST_COUNT, bytes: BURST_BYTES, rounds, gatewayPid, clear: modes.clear });
}
