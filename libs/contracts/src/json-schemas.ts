import { z } from 'zod';
import { PublishedEventEnvelopeSchema } from './envelope';
import { AssetsEvents } from './assets/events';
import { CiEvents } from './ci/events';
import { GatewayEvents } from './gateway/events';
import { IdentityEvents } from './identity/events';
import type { EventContract } from './kernel';

/** Every event contract, by type. */
export const ALL_EVENTS: readonly EventContract[] = [...Object.values(IdentityEvents), ...Object.values(CiEvents), ...Object.values(AssetsEvents), ...Object.values(GatewayEvents)];

const DIALECT = 'https://json-schema.org/draft/2020-12/schema';

/** JSON Schema 2020-12 of a contract schema, without its own `$schema` (it sits under `$defs`). */
function toSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { unrepresentable: 'any', target: 'draft-2020-12', io: 'output' }) as Record<string, unknown>;
  return rest;
}

/**
 * One JSON Schema (2020-12) document that validates a whole message of the EVENTS stream: the
 * envelope (`$defs.envelope`) and, chosen by `type`, the event's `data` (`$defs["<type>"]`, one per
 * registered event type; `schemaVersion` must be the one of that type). For audit subscribers in
 * any language: one call validates a message. `npm run schemas` writes it to
 * schemas/events.schema.json (a test fails when that file is out of date); the gateway serves it at
 * `GET /api/v1/events/schema`.
 */
export function eventJsonSchema() {
  const events = [...ALL_EVENTS].sort((a, b) => a.type.localeCompare(b.type));
  return {
    $schema: DIALECT,
    $id: 'urn:gantry:schemas:events',
    title: 'Gantry event',
    description: 'A message of the EVENTS stream (events.>): the envelope, with the data of its type. '
      + 'Each type is published on the subject events.<type>. The data schema of a type is $defs["<type>"].',
    type: 'object',
    $ref: '#/$defs/envelope',
    properties: { type: { enum: events.map((event) => event.type) } },
    required: ['type'],
    allOf: events.map((event) => ({
      if: { properties: { type: { const: event.type } } },
      then: {
        $comment: `published on ${event.subject}`,
        properties: { schemaVersion: { const: event.schemaVersion }, data: { $ref: `#/$defs/${event.type}` } },
      },
    })),
    $defs: {
      envelope: { title: 'Event envelope', ...toSchema(PublishedEventEnvelopeSchema) },
      ...Object.fromEntries(events.map((event) => [event.type, { title: `${event.type} data (schemaVersion ${event.schemaVersion})`, ...toSchema(event.data) }])),
    },
  };
}
