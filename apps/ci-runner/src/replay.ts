import 'reflect-metadata';
import { runReplayCommand } from '#platform';
import { CI_PROJECTIONS, CI_SCHEMA } from './app.module';
import { CI_MIGRATIONS } from './migrations';

/** `npm run replay:ci`: rebuilds the ci-runner's read models (jobs, runs) from its events. */
runReplayCommand('ci-runner', { schema: CI_SCHEMA, migrations: CI_MIGRATIONS, projections: CI_PROJECTIONS.map((Projection) => new Projection()) });
