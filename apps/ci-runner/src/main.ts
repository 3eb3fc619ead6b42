import 'reflect-metadata';
import { createLogger, startService } from '#platform';
import { CiModule } from './app.module';
import { loadCiConfig } from './config';

async function main(): Promise<void> {
  const config = loadCiConfig();
  const logger = createLogger('ci-runner', config.GANTRY_LOG_LEVEL);
  await startService(CiModule.forRoot(config, logger), 'ci-runner', config, logger);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
