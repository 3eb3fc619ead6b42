import { z } from 'zod';

/** Who did it: a user, a token acting for a user, a service, or the system itself. */
export const ActorSchema = z.strictObject({
  kind: z.enum(['user', 'pat', 'runner', 'ci_job', 'api_key', 'service', 'system', 'anonymous']),
  id: z.string(),
  name: z.string(),
});
export type Actor = z.infer<typeof ActorSchema>;

export const SYSTEM_ACTOR: Actor = { kind: 'system', id: 'system', name: 'system' };

export const EventSubjectSchema = z.strictObject({ kind: z.string(), id: z.string() });
export type EventSubject = z.infer<typeof EventSubjectSchema>;

/**
 * The envelope of every event on the EVENTS stream. No envelope ever carries a raw token, a
 * password or a password hash.
 */
export const EventEnvelopeSchema = z.strictObject({
  id: z.uuid(),
  type: z.string(),
  schemaVersion: z.number().int().positive(),
  stream: z.string(),
  version: z.number().int().positive(),
  occurredAt: z.iso.datetime({ offset: true }),
  actor: ActorSchema,
  subject: EventSubjectSchema,
  requestId: z.string().nullable(),
  ip: z.string().nullable().optional(),
  data: z.unknown(),
  /**
   * The audit hash chain (audit/chain.ts): the publishing service, the event's place in its chain
   * (1, 2, 3 …), the previous event's hash and this one's. Absent only on events that are not
   * part of a service's chain.
   */
  service: z.string().optional(),
  seq: z.number().int().positive().optional(),
  prevHash: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  hash: z.string().regex(/^[0-9a-f]{64}$/).optional(),
});
/**
 * The envelope as every publisher sends it: `ip` is always there (null when no client request
 * caused the event). Readers parse with EventEnvelopeSchema, which also takes an envelope without
 * it; the published JSON Schema (schemas/events.schema.json) is this one.
 */
export const PublishedEventEnvelopeSchema = EventEnvelopeSchema.extend({ ip: z.string().nullable() });

export type EventEnvelope<D = unknown> = Omit<z.infer<typeof EventEnvelopeSchema>, 'data'> & { data: D };

/**
 * What travels in NATS headers with every request: the gateway's request id, the caller and the
 * client IP, so services can put them in event metadata and logs.
 */
export const REQUEST_ID_HEADER = 'Gantry-Request-Id';
export const ACTOR_HEADER = 'Gantry-Actor';
export const CLIENT_IP_HEADER = 'Gantry-Client-Ip';
/**
 * When the caller stops waiting (epoch milliseconds): a service drops a request whose deadline has
 * passed before it starts it, and rolls back work that would commit after it (DESIGN §5).
 */
export const DEADLINE_HEADER = 'Gantry-Deadline';
/**
 * An `Idempotency-Key` from the client, forwarded with the creating request it came with, as JSON
 * `{key, fingerprint, sealKey}`: the key as sent, a SHA-256 of method, path and body (a different
 * body under the same key is 409 idempotency_key_reused), and a key derived from the caller's raw
 * credential with which a service seals a stored response that holds a secret, so that only the
 * same credential can open it again.
 */
export const IDEMPOTENCY_HEADER = 'Gantry-Idempotency';
