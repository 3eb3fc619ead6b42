import { z } from 'zod';
import { EventEnvelopeSchema } from './envelope';
import { AssetsEvents } from './assets/events';
import { CiEvents } from './ci/events';
import { IdentityEvents } from './identity/events';
import type { EventContract } from './kernel';

/** Every event contract, by type. */
export const ALL_EVENTS: readonly EventContract[] = [...Object.values(IdentityEvents), ...Object.values(CiEvents), ...Object.values(AssetsEvents)];

/**
 * JSON Schema (2020-12) of the event envelope and of each event's `data`, for audit subscribers
 * written in other languages. `npm run schemas` writes it to schemas/events.schema.json.
 */
export function eventJsonSchemas() {
  const toSchema = (schema: z.ZodType) => z.toJSONSchema(schema, { unrepresentable: 'any' });
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'Gantry events',
    description: 'The envelope of every message on the EVENTS stream (events.>) and the data of each event type, by type and schemaVersion.',
    envelope: toSchema(EventEnvelopeSchema),
    events: Object.fromEntries(ALL_EVENTS.map((event) => [event.type, { subject: event.subject, schemaVersion: event.schemaVersion, data: toSchema(event.data) }])),
  };
}
