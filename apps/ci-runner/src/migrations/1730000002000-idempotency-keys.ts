import { idempotencyKeysMigration } from '#platform';

/** Responses remembered under clients' Idempotency-Keys (see libs/platform/src/idempotency). */
export const IdempotencyKeys1730000002000 = idempotencyKeysMigration(1730000002000);
