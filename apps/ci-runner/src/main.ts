import 'reflect-metadata';
import { createLogger, startService } from '#platform';
import { CiModule } from './app.module';
import { loadCiConfig } from './config';
import { loadJobsFile } from './jobs-file/jobs-file';

async function main(): Promise<void> {
  const config = loadCiConfig();
  // A bad jobs file stops the service here, naming the file's line and field.
  const jobsFile = config.GANTRY_JOBS_FILE ? loadJobsFile(config.GANTRY_JOBS_FILE) : [];
  const logger = createLogger('ci-runner', config.GANTRY_LOG_LEVEL);
  await startService(CiModule.forRoot(config, logger, jobsFile), 'ci-runner', config, logger);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
