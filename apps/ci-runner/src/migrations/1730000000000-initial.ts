import { EventStoreInitial1730000000000 } from '#platform';

/** In order; append only. The name stays Initial1730000000000: it is recorded in the migrations table. */
export const Initial1730000000000 = EventStoreInitial1730000000000;
