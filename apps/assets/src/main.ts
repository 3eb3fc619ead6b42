import 'reflect-metadata';
import { createLogger, startService } from '#platform';
import { AssetsModule } from './app.module';
import { loadAssetsConfig } from './config';

async function main(): Promise<void> {
  const config = loadAssetsConfig();
  const logger = createLogger('assets', config.GANTRY_LOG_LEVEL);
  await startService(AssetsModule.forRoot(config, logger), 'assets', config, logger);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
