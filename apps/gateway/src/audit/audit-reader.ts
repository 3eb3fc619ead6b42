import { Inject, Injectable } from '@nestjs/common';
import { jetstreamManager, type JetStreamManager, type MsgRequest, type StoredMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { AUDIT_SERVICES, EVENTS_STREAM, EventEnvelopeSchema, GantryError, type AuditPage, type AuditQuery, type EventEnvelope } from '#contracts';
import { NATS_CONNECTION } from '#platform';

/** Messages one page may look at before it answers with what it found and a cursor. */
const SCAN_LIMIT = 5000;

/**
 * Reads the audit trail straight from the EVENTS stream rather than from a projection: the stream
 * is already the complete, ordered record of every service's events (a projection would copy every
 * service's events into yet another database that one service would have to own), it filters by
 * subject on the server, and its sequence is a stable cursor. Reads are single-message gets
 * (`$JS.API.STREAM.MSG.GET.EVENTS`, read-only: the gateway needs no right to create consumers).
 * What the stream does not index — actor, subject, and a type filter inside a service — is checked
 * here, at most SCAN_LIMIT messages a page. Events past the stream's retention are not here: they
 * stay in each service's PostgreSQL (`npm run audit:republish` puts them back).
 */
@Injectable()
export class AuditReader {
  private jsm: Promise<JetStreamManager> | null = null;

  constructor(@Inject(NATS_CONNECTION) private readonly nc: NatsConnection) {}

  async page(query: AuditQuery): Promise<AuditPage> {
    const items: EventEnvelope[] = [];
    const scan = await this.scan(query, SCAN_LIMIT);
    for await (const envelope of scan.events) {
      items.push(envelope);
      if (items.length === query.limit) break;
    }
    const next = scan.next();
    return { items, nextCursor: next === null ? null : encodeCursor(next) };
  }

  /** Every matching event up to `until` (or the end of the stream as it is now), for NDJSON. */
  async *all(query: AuditQuery): AsyncGenerator<EventEnvelope> {
    yield* (await this.scan(query, Number.POSITIVE_INFINITY)).events;
  }

  private async scan(query: AuditQuery, scanLimit: number): Promise<{ events: AsyncGenerator<EventEnvelope>; next(): number | null }> {
    const jsm = await this.manager();
    const info = await jsm.streams.info(EVENTS_STREAM.name).catch((error: unknown) => {
      throw new GantryError('service_unavailable', 'the audit stream is unavailable', undefined, { cause: error });
    });
    const lastSeq = info.state.last_seq;
    const until = query.until ? Date.parse(query.until) : Number.POSITIVE_INFINITY;
    let seq = query.cursor !== undefined ? decodeCursor(query.cursor) : query.since ? await this.seek(jsm, Date.parse(query.since), info.state.first_seq, lastSeq) : info.state.first_seq;
    let finished = false;
    const subject = subjectFilter(query);
    const matches = envelopeFilter(query);
    const events = async function* (this: AuditReader): AsyncGenerator<EventEnvelope> {
      for (let scanned = 0; scanned < scanLimit; scanned++) {
        const message = seq > lastSeq ? null : await this.next(jsm, subject, seq);
        if (!message || message.seq > lastSeq) return void (finished = true);
        seq = message.seq + 1;
        const envelope = parse(message);
        if (!envelope) continue;
        if (Date.parse(envelope.occurredAt) > until) return void (finished = true);
        if (Date.parse(envelope.occurredAt) < (query.since ? Date.parse(query.since) : 0)) continue;
        if (matches(envelope)) yield envelope;
      }
    }.call(this);
    return { events, next: () => (finished || seq > lastSeq ? null : seq) };
  }

  /** The first stored message at or after `seq` on `subject`, or null. */
  private async next(jsm: JetStreamManager, subject: string, seq: number): Promise<StoredMsg | null> {
    return jsm.streams.getMessage(EVENTS_STREAM.name, { seq, next_by_subj: subject } as unknown as MsgRequest).catch((error: unknown) => {
      throw new GantryError('service_unavailable', 'the audit stream is unavailable', undefined, { cause: error });
    });
  }

  /** The first sequence stored at or after `since` (binary search on store time: ~log2(n) gets). */
  private async seek(jsm: JetStreamManager, since: number, firstSeq: number, lastSeq: number): Promise<number> {
    let low = firstSeq;
    let high = lastSeq + 1;
    while (low < high) {
      const middle = Math.floor((low + high) / 2);
      const message = await this.next(jsm, EVENTS_STREAM.subjects[0], middle);
      if (!message) high = middle;
      else if (message.time.getTime() < since) low = message.seq + 1;
      else high = middle;
    }
    return low;
  }

  private manager(): Promise<JetStreamManager> {
    // No $JS.API.INFO check: the gateway may only read EVENTS (nats-permissions.ts).
    this.jsm ??= jetstreamManager(this.nc, { checkAPI: false });
    return this.jsm;
  }
}

function subjectFilter(query: AuditQuery): string {
  if (query.type) return query.type.endsWith('.*') ? `events.${query.type.slice(0, -2)}.>` : `events.${query.type}`;
  if (query.service) return `events.${AUDIT_SERVICES[query.service]}.>`;
  return EVENTS_STREAM.subjects[0];
}

/** What the subject filter cannot say: the service of a type filter, actor, subject. */
function envelopeFilter(query: AuditQuery): (envelope: EventEnvelope) => boolean {
  const prefix = query.service ? `${AUDIT_SERVICES[query.service]}.` : '';
  const [subjectKind, subjectId] = query.subject?.includes(':') ? query.subject.split(/:(.*)/s, 2) : [null, query.subject];
  return (envelope) =>
    envelope.type.startsWith(prefix) &&
    (!query.actor || envelope.actor.id === query.actor || envelope.actor.name === query.actor) &&
    (!query.subject || (envelope.subject?.id === subjectId && (subjectKind === null || envelope.subject.kind === subjectKind)));
}

function parse(message: StoredMsg): EventEnvelope | null {
  try {
    const parsed = EventEnvelopeSchema.safeParse(message.json());
    return parsed.success ? (parsed.data as EventEnvelope) : null;
  } catch {
    return null;
  }
}

function encodeCursor(seq: number): string {
  return Buffer.from(`s${seq}`).toString('base64url');
}

function decodeCursor(cursor: string): number {
  const match = /^s([1-9][0-9]{0,15})$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!match) throw new GantryError('invalid_request', 'cursor: not a cursor from a previous page', 'cursor');
  return Number(match[1]);
}
