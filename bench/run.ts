import { createPat, loginToken, startBaseline, startBenchStack } from './lib/bench-stack';
import { measure, measureInterleaved, report } from './lib/measure';
import { measureRevocation, percentile } from './lib/revocation';

/**
 * `npm run bench`: performance goals as ratios measured side by side in one run, on this machine.
 * BENCH_DURATION_SEC, BENCH_ROUNDS, BENCH_CONNECTIONS and BENCH_REVOCATION_TRIALS tune it.
 */
async function main(): Promise<void> {
  const durationSec = Number(process.env.BENCH_DURATION_SEC ?? 4);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
  const trials = Number(process.env.BENCH_REVOCATION_TRIALS ?? 50);
  const baseline = await startBaseline();
  // Gateways A and B as deployed; C with its auth cache off, to measure the miss path.
  const stack = await startBenchStack([{}, {}, { GANTRY_AUTH_CACHE_TTL_MS: '0' }]);
  try {
    const [a, b, uncached] = stack.gatewayUrls;
    const session = await loginToken(a, stack.admin);
    const pat = await createPat(a, session, 'bench');
    const auth = (token: string) => ({ authorization: `Bearer ${token}` });
    const load = { durationSec, connections };
    await measure('warm-up', { ...load, durationSec: 2, url: `${a}/api/v1/user`, headers: auth(pat.token) });
    const rows = await measureInterleaved([
      { name: 'bare Fastify GET /hello (baseline)', options: { ...load, url: `${baseline.url}/hello` } },
      { name: 'gateway GET /healthz (public, no auth)', options: { ...load, url: `${a}/healthz` } },
      { name: 'gateway GET /api/v1/user, PAT, cache hit', options: { ...load, url: `${a}/api/v1/user`, headers: auth(pat.token) } },
      { name: 'gateway GET /api/v1/user, session JWT, cache hit', options: { ...load, url: `${a}/api/v1/user`, headers: auth(session) } },
      { name: 'gateway GET /api/v1/user, PAT, cache miss (identity each time)', options: { ...load, url: `${uncached}/api/v1/user`, headers: auth(pat.token) } },
    ], rounds);
    report(`authenticated requests vs bare Fastify (${connections} connections, median of ${rounds} interleaved ${durationSec} s rounds)`, rows);
    console.log(`cache miss / cache hit: ${(rows[4].requestsPerSec / rows[2].requestsPerSec).toFixed(2)}×`);

    const revocation = await measureRevocation([a, b], session, trials);
    console.log(`\n## revocation through gateway A while gateway B is hammered (${trials} trials, ${revocation.requests} requests)`);
    console.log(`revoke response → first 401 at B: p50 ${percentile(revocation.latenciesMs, 50).toFixed(2)} ms, p99 ${percentile(revocation.latenciesMs, 99).toFixed(2)} ms`);
    console.log(`200s for requests that began after the revoke response: ${revocation.lateAccepts}`);
  } finally {
    await stack.stop();
    await baseline.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
