import 'reflect-metadata';
import { createLogger, exitOnSignals } from '#platform';
import { loadGatewayConfig } from './config';
import { createGateway } from './gateway';

async function main(): Promise<void> {
  const config = loadGatewayConfig();
  const logger = createLogger('gateway', config.GANTRY_LOG_LEVEL);
  const app = await createGateway(config, logger);
  await app.listen(config.GANTRY_PORT, config.GANTRY_HOST);
  exitOnSignals(app, logger, { timeoutMs: config.GANTRY_SHUTDOWN_TIMEOUT_MS });
  logger.info({ url: await app.getUrl(), publicUrl: config.GANTRY_PUBLIC_URL }, 'gateway listening');
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
