import { measure, report } from './lib/measure';
import { loginToken, startBaseline, startBenchStack } from './lib/bench-stack';

/**
 * `npm run bench`: performance goals as ratios measured side by side in one run, on this machine.
 * BENCH_DURATION_SEC and BENCH_CONNECTIONS tune the load.
 */
async function main(): Promise<void> {
  const durationSec = Number(process.env.BENCH_DURATION_SEC ?? 8);
  const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
  const baseline = await startBaseline();
  const stack = await startBenchStack();
  try {
    const [gateway] = stack.gatewayUrls;
    const session = await loginToken(gateway, stack.admin);
    const load = { durationSec, connections };
    await measure('warm-up', { ...load, durationSec: 2, url: `${gateway}/api/v1/user`, headers: { authorization: `Bearer ${session}` } });
    const rows = [
      await measure('bare Fastify GET /hello (baseline)', { ...load, url: `${baseline.url}/hello` }),
      await measure('gateway GET /api/v1/user (session JWT)', { ...load, url: `${gateway}/api/v1/user`, headers: { authorization: `Bearer ${session}` } }),
    ];
    report(`authenticated request vs bare Fastify (${connections} connections, ${durationSec} s each)`, rows);
  } finally {
    await stack.stop();
    await baseline.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
