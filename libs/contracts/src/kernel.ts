import { z } from 'zod';

/**
 * A NATS request/reply contract: the subject, the request schema and the reply schema travel
 * together, so no code sends a payload to a bare subject string.
 *
 * WARNING: subjects are part of the wire protocol between deployed services. Never rename one in
 * place; add a `.v<N+1>` contract instead.
 */
export interface RequestContract<Req extends z.ZodType = z.ZodType, Res extends z.ZodType = z.ZodType> {
  readonly kind: 'request';
  readonly subject: string;
  readonly request: Req;
  readonly response: Res;
}

export type RequestOf<C extends RequestContract> = z.infer<C['request']>;
export type ResponseOf<C extends RequestContract> = z.infer<C['response']>;

const REQUEST_SUBJECT = /^[a-z]+(\.[a-z_]+)+\.v[0-9]+$/;

export function defineRequest<Req extends z.ZodType, Res extends z.ZodType>(
  subject: string,
  schemas: { request: Req; response: Res },
): RequestContract<Req, Res> {
  if (!REQUEST_SUBJECT.test(subject)) throw new Error(`invalid request subject: ${subject}`);
  return Object.freeze({ kind: 'request', subject, ...schemas });
}

/**
 * An event contract: `type` is `<service>.<entity>.<action>`, published on `events.<type>`.
 *
 * WARNING: event types and their data are persisted forever in every service's events table and in
 * the EVENTS stream. Add fields only as optional; a breaking change bumps `schemaVersion`.
 */
export interface EventContract<T extends string = string, D extends z.ZodType = z.ZodType> {
  readonly kind: 'event';
  readonly type: T;
  readonly subject: `events.${T}`;
  readonly schemaVersion: number;
  readonly data: D;
}

export type EventDataOf<C extends EventContract> = z.infer<C['data']>;

const EVENT_TYPE = /^[a-z]+(\.[a-z_]+){2}$/;

export function defineEvent<T extends string, D extends z.ZodType>(
  type: T,
  schemaVersion: number,
  data: D,
): EventContract<T, D> {
  if (!EVENT_TYPE.test(type)) throw new Error(`invalid event type: ${type}`);
  return Object.freeze({ kind: 'event', type, subject: `events.${type}` as const, schemaVersion, data });
}

/** The JetStream stream that holds every event. Persisted name: never rename. */
export const EVENTS_STREAM = { name: 'EVENTS', subjects: ['events.>'] } as const;

/**
 * A core-NATS broadcast (no JetStream, no queue group): every subscriber gets it. Used for
 * gateway presence and auth-cache invalidation, which concern every live gateway.
 */
export interface SignalContract<S extends z.ZodType = z.ZodType> {
  readonly kind: 'signal';
  readonly subject: string;
  readonly schema: S;
}

export function defineSignal<S extends z.ZodType>(subject: string, schema: S): SignalContract<S> {
  if (!REQUEST_SUBJECT.test(subject)) throw new Error(`invalid signal subject: ${subject}`);
  return Object.freeze({ kind: 'signal', subject, schema });
}
