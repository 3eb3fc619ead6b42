import { eventChainMigration } from '#platform';
import { Assets1730000001000 } from './1730000001000-assets';
import { Initial1730000000000 } from './1730000000000-initial';
import { IdempotencyKeys1730000002000 } from './1730000002000-idempotency-keys';

/** In order; append only. */
export const ASSETS_MIGRATIONS = [Initial1730000000000, Assets1730000001000, IdempotencyKeys1730000002000, eventChainMigration('assets')];
