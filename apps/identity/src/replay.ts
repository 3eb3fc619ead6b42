import 'reflect-metadata';
import { runReplayCommand } from '#platform';
import { IDENTITY_PROJECTIONS, IDENTITY_SCHEMA } from './app.module';
import { IDENTITY_MIGRATIONS } from './migrations';

/** `npm run replay:identity`: rebuilds identity's read models from its events. */
runReplayCommand('identity', { schema: IDENTITY_SCHEMA, migrations: IDENTITY_MIGRATIONS, projections: IDENTITY_PROJECTIONS.map((Projection) => new Projection()) });
