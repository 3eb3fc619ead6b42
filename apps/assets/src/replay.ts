import 'reflect-metadata';
import { runReplayCommand } from '#platform';
import { ASSETS_PROJECTIONS, ASSETS_SCHEMA } from './app.module';
import { ASSETS_MIGRATIONS } from './migrations';

/** `npm run replay:assets`: rebuilds the assets read model from its events (uploads and garbage are not events: kept). */
runReplayCommand('assets', { schema: ASSETS_SCHEMA, migrations: ASSETS_MIGRATIONS, projections: ASSETS_PROJECTIONS.map((Projection) => new Projection()) });
