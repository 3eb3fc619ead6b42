import { eventChainMigration } from '#platform';
import { Ci1730000001000 } from './1730000001000-ci';
import { Initial1730000000000 } from './1730000000000-initial';
import { IdempotencyKeys1730000002000 } from './1730000002000-idempotency-keys';

/** In order; append only. */
export const CI_MIGRATIONS = [Initial1730000000000, Ci1730000001000, IdempotencyKeys1730000002000, eventChainMigration('ci-runner')];
