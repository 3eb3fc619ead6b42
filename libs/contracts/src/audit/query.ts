import { z } from 'zod';
import { EventEnvelopeSchema } from '../envelope';
import { cursorString } from '../pagination';
import { storableString } from '../strings';

/** The services whose events are on EVENTS, and the subject prefix of each. */
export const AUDIT_SERVICES = { identity: 'identity', 'ci-runner': 'ci', assets: 'assets', gateway: 'gateway' } as const;
export type AuditService = keyof typeof AUDIT_SERVICES;

/**
 * `GET /api/v1/audit`: events from the EVENTS stream, oldest first. `type` is an event type
 * (`identity.pat.created`) or a prefix ending in `.*` (`identity.pat.*`); `actor` matches the
 * actor's id or name; `subject` is `kind:id` or an id; `since`/`until` bound occurredAt.
 */
export const AuditQuerySchema = z.strictObject({
  type: z.string().regex(/^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*)?$/, 'an event type such as identity.pat.created, or a prefix such as identity.pat.*').max(200).optional(),
  service: z.enum(Object.keys(AUDIT_SERVICES) as [AuditService, ...AuditService[]]).optional(),
  actor: storableString().min(1).max(200).optional(),
  subject: storableString().min(1).max(300).optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  until: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: cursorString(40).optional(),
}).refine((q) => !q.since || !q.until || Date.parse(q.since) <= Date.parse(q.until), { path: ['until'], message: 'until is before since' });
export type AuditQuery = z.infer<typeof AuditQuerySchema>;

export const AuditPageSchema = z.strictObject({
  items: z.array(EventEnvelopeSchema),
  /** Null at the end of the stream (or past `until`); otherwise pass it back for more. */
  nextCursor: z.string().nullable(),
});
export type AuditPage = z.infer<typeof AuditPageSchema>;
