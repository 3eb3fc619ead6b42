import { createPat, loginToken, startBaseline, startBenchStack, type BenchStack } from './lib/bench-stack';
import { benchAssets } from './lib/assets';
import { benchCi } from './lib/ci';
import { benchEvents } from './lib/events';
import { pinToCpu } from './lib/cpu';
import { measure, measureInterleaved, report, type LoadOptions } from './lib/measure';
import { measureRevocation, percentile } from './lib/revocation';

/** The sections of `npm run bench`, in the order they run. */
const SECTIONS = ['http', 'ci', 'assets', 'events'] as const;
type Section = (typeof SECTIONS)[number];

/** BENCH_ONLY: a comma list of sections (e.g. `ci,assets`); unset or empty, all of them. */
function selectedSections(only = process.env.BENCH_ONLY ?? ''): Set<Section> {
  const names = only.split(',').map((name) => name.trim()).filter(Boolean);
  const unknown = names.filter((name) => !(SECTIONS as readonly string[]).includes(name));
  if (unknown.length) throw new Error(`BENCH_ONLY=${only}: unknown ${unknown.join(', ')} (known: ${SECTIONS.join(', ')})`);
  return new Set(names.length ? (names as Section[]) : SECTIONS);
}

/**
 * `npm run bench`: performance goals as ratios measured side by side in one run, on this machine:
 * the HTTP section, then CI, assets and events. BENCH_ONLY picks sections; BENCH_DURATION_SEC,
 * BENCH_ROUNDS, BENCH_CONNECTIONS, BENCH_REVOCATION_TRIALS, BENCH_CI_*, BENCH_ASSET_* and
 * BENCH_EVENTS_* tune them.
 */
async function main(): Promise<void> {
  const sections = selectedSections();
  // The load generator (this process) on CPU 0, and with it everything it starts (NATS, PostgreSQL,
  // s3rver, which runs in this process, backend services): only the servers under test, pinned
  // below, run on CPU 1.
  const pinnedHere = pinToCpu(process.pid, 0);
  // Gateways A and B as deployed; C with its auth cache off, to measure the miss path. The CI and
  // assets sections need gateway A only.
  const stack = await startBenchStack(sections.has('http') ? [{}, {}, { GANTRY_AUTH_CACHE_TTL_MS: '0' }] : [{}]);
  try {
    const session = await loginToken(stack.gatewayUrls[0], stack.admin);
    if (sections.has('http')) await benchHttp(stack, session, pinnedHere);
    if (sections.has('ci')) {
      // The gateway and the ci-runner (and the steps it starts) are the servers under test here.
      const pinned = pinnedHere && [stack.gatewayPids[0], stack.ciRunnerPid].map((pid) => pinToCpu(pid, 1)).every(Boolean);
      console.log(`\n${pinned ? 'CI: gateway A and the ci-runner pinned to CPU 1, the clients, PostgreSQL, NATS and identity to CPU 0' : 'CI: not pinned (one CPU or no taskset)'}`);
      if (!(await benchCi(stack, session))) process.exitCode = 1;
    }
    // Gateway A alone is under test; the assets service only answers its two NATS calls per transfer.
    if (sections.has('assets') && !(await benchAssets(stack, session, pinnedHere && pinToCpu(stack.gatewayPids[0], 1)))) process.exitCode = 1;
    // Identity's relay is what is measured: identity on CPU 1, the committer and subscriber here.
    if (sections.has('events')) {
      console.log(`
${pinnedHere && pinToCpu(stack.identityPid, 1) ? 'events: identity pinned to CPU 1' : 'events: not pinned'}`);
      await benchEvents(stack);
    }
  } finally {
    await stack.stop();
  }
}

async function benchHttp(stack: BenchStack, session: string, pinnedHere: boolean): Promise<void> {
  const durationSec = Number(process.env.BENCH_DURATION_SEC ?? 4);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
  const trials = Number(process.env.BENCH_REVOCATION_TRIALS ?? 50);
  const [a, b, uncached] = stack.gatewayUrls;
  const pat = await createPat(a, session, 'bench');
  const auth = (token: string) => ({ authorization: `Bearer ${token}` });
  const whoami = await (await fetch(`${a}/api/v1/user`, { headers: auth(pat.token) })).text();
  const baseline = await startBaseline(whoami);
  try {
    const pinned = [pinnedHere, ...[baseline.pid, ...stack.gatewayPids].map((pid) => pinToCpu(pid, 1))].every(Boolean);
    console.log(pinned ? 'servers under test pinned to CPU 1, everything else to CPU 0' : 'not pinned (one CPU or no taskset): expect noisier ratios');
    const load = { durationSec, connections };
    const [pidA, , pidC] = stack.gatewayPids;
    const onA = (path: string, headers?: Record<string, string>): LoadOptions => ({ ...load, url: `${a}${path}`, headers, serverPid: pidA });
    await measure('warm-up', { ...onA('/api/v1/user', auth(pat.token)), durationSec: 2 });
    const rows = await measureInterleaved([
      { name: 'bare Fastify GET /hello (baseline)', options: { ...load, url: `${baseline.url}/hello`, serverPid: baseline.pid } },
      { name: 'bare Fastify answering the same bytes as GET /api/v1/user', options: { ...load, url: `${baseline.url}/same`, serverPid: baseline.pid } },
      { name: 'gateway GET /healthz (public, no auth)', options: onA('/healthz') },
      { name: 'gateway GET /api/v1/user, PAT, cache hit', options: onA('/api/v1/user', auth(pat.token)) },
      { name: 'gateway GET /api/v1/user, session JWT, cache hit', options: onA('/api/v1/user', auth(session)) },
      { name: 'gateway GET /api/v1/user, PAT, cache miss (identity each time)', options: { ...load, url: `${uncached}/api/v1/user`, headers: auth(pat.token), serverPid: pidC } },
    ], rounds);
    report(`authenticated requests vs bare Fastify (${connections} connections, median of ${rounds} interleaved ${durationSec} s rounds)`, rows);
    const [, , , hit, , miss] = rows;
    console.log(`cache miss / cache hit: ${(miss.throughputRatio / hit.throughputRatio).toFixed(2)}× by req/s`);

    const revocation = await measureRevocation([a, b], session, trials);
    console.log(`\n## revocation through gateway A while gateway B is hammered (${trials} trials, ${revocation.requests} requests)`);
    console.log(`revoke response → first 401 at B: p50 ${percentile(revocation.latenciesMs, 50).toFixed(2)} ms, p99 ${percentile(revocation.latenciesMs, 99).toFixed(2)} ms`);
    console.log(`200s for requests that began after the revoke response: ${revocation.lateAccepts}`);
  } finally {
    await baseline.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
