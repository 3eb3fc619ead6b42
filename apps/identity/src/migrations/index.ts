import { Initial1730000000000 } from './1730000000000-initial';

/** In order; append only. */
export const IDENTITY_MIGRATIONS = [Initial1730000000000];
