import { headers as natsHeaders, type MsgHdrs } from '@nats-io/transport-node';
import { z } from 'zod';
import { ACTOR_HEADER, ActorSchema, CLIENT_IP_HEADER, IDEMPOTENCY_HEADER, REQUEST_ID_HEADER, type Actor } from '#contracts';

/** Who asked, under which request id, from which IP: carried in NATS headers with each request. */
export interface RequestContext {
  requestId: string | null;
  actor: Actor;
  ip: string | null;
  /** Present on a creating request the client sent with an `Idempotency-Key`. */
  idempotency?: IdempotencyContext | null;
}

export const IdempotencyContextSchema = z.object({
  key: z.string().min(1).max(255),
  fingerprint: z.string().regex(/^[0-9a-f]{64}$/),
  sealKey: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
});
export type IdempotencyContext = z.infer<typeof IdempotencyContextSchema>;

const ANONYMOUS: Actor = { kind: 'anonymous', id: 'anonymous', name: 'anonymous' };

export function toHeaders(context: Partial<RequestContext>): MsgHdrs {
  const h = natsHeaders();
  if (context.requestId) h.set(REQUEST_ID_HEADER, context.requestId);
  if (context.actor) h.set(ACTOR_HEADER, JSON.stringify(context.actor));
  if (context.ip) h.set(CLIENT_IP_HEADER, context.ip);
  if (context.idempotency) h.set(IDEMPOTENCY_HEADER, JSON.stringify(context.idempotency));
  return h;
}

export function fromHeaders(h: MsgHdrs | undefined): RequestContext {
  const actorJson = h?.get(ACTOR_HEADER);
  let actor = ANONYMOUS;
  if (actorJson) {
    const parsed = ActorSchema.safeParse(safeJson(actorJson));
    if (parsed.success) actor = parsed.data;
  }
  const idempotencyJson = h?.get(IDEMPOTENCY_HEADER);
  const idempotency = idempotencyJson ? IdempotencyContextSchema.safeParse(safeJson(idempotencyJson)) : null;
  return {
    requestId: h?.get(REQUEST_ID_HEADER) || null, actor, ip: h?.get(CLIENT_IP_HEADER) || null,
    idempotency: idempotency?.success ? idempotency.data : null,
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
