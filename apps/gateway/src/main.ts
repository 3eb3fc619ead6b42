import 'reflect-metadata';
import { createLogger, exitOnSignals } from '#platform';
import { loadGatewayConfig } from './config';
import { createGateway } from './gateway';

async function main(): Promise<void> {
  const config = loadGatewayConfig();
  const logger = createLogger('gateway', config.GANTRY_LOG_LEVEL);
  if (config.GANTRY_TRUST_PROXY === true) {
    logger.warn('GANTRY_TRUST_PROXY=true trusts every hop: the left-most X-Forwarded-For, which any client can set, keys per-IP limits; name the proxies (IPs/CIDRs) or a hop count instead');
  }
  const app = await createGateway(config, logger);
  await app.listen(config.GANTRY_PORT, config.GANTRY_HOST);
  exitOnSignals(app, logger, { timeoutMs: config.GANTRY_SHUTDOWN_TIMEOUT_MS });
  logger.info({ url: await app.getUrl(), publicUrl: config.GANTRY_PUBLIC_URL }, 'gateway listening');
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
