import { eventChainMigration } from '#platform';
import { Ci1730000001000 } from './1730000001000-ci';
import { Initial1730000000000 } from './1730000000000-initial';

/** In order; append only. */
export const CI_MIGRATIONS = [Initial1730000000000, Ci1730000001000, eventChainMigration('ci-runner')];
