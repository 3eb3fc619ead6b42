import 'reflect-metadata';
import { createLogger, startService } from '#platform';
import { IdentityModule } from './app.module';
import { loadIdentityConfig } from './config';

async function main(): Promise<void> {
  const config = loadIdentityConfig();
  const logger = createLogger('identity', config.GANTRY_LOG_LEVEL);
  await startService(IdentityModule.forRoot(config, logger), 'identity', config, logger);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
