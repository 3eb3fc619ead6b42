import { AssetsRequests, CiRequests, IdentityRequests } from '#contracts';
import { CommonConfigSchema, loadConfig, natsAuth, RpcClient } from '#platform';
import { connect } from '@nats-io/transport-node';

/**
 * Container health check for the backend services (they have no HTTP port): asks the service
 * over NATS for its ping, which checks its own database. `node dist/scripts/healthcheck.js identity`
 * It runs in the service's container, as the service's NATS user (which may ask its own ping).
 */
const PINGS = { identity: IdentityRequests.ping, assets: AssetsRequests.ping, 'ci-runner': CiRequests.ping };

async function main(): Promise<number> {
  const service = process.argv[2] as keyof typeof PINGS;
  if (!(service in PINGS)) {
    console.error(`usage: healthcheck <${Object.keys(PINGS).join('|')}>`);
    return 2;
  }
  const config = loadConfig(CommonConfigSchema);
  const nc = await connect({ servers: config.GANTRY_NATS_URL, timeout: 2000, ...natsAuth(config) });
  try {
    const answer = await new RpcClient(nc, 2000).request(PINGS[service], {});
    console.log(JSON.stringify(answer));
    return answer.status === 'ok' ? 0 : 1;
  } finally {
    await nc.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
