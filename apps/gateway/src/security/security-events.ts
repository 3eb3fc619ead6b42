import type { OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { GatewayEvents, parseToken, TOKEN_PREFIXES, type DenialAggregate, type DeniedCredentialKind, type ErrorCode, type EventEnvelope, type TokenKind } from '#contracts';
import { clientKey } from '../http/client-ip';
import { aggregateEventId, DenialAggregator, type ClosedWindow, type Denial, type DenialCount } from './denial-aggregator';

/** Where the events go: JetStream (`jetstream(nc)`); a test passes its own. */
export interface SecurityEventPublisher {
  publish(subject: string, payload: string, options: { msgID: string; timeout: number }): Promise<{ duplicate?: boolean }>;
}

export interface SecurityEventsOptions {
  gatewayId: string;
  /** Length of an aggregation window (GANTRY_SECURITY_EVENT_INTERVAL_MS). */
  intervalMs: number;
  /** Per-client keys a window holds before folding into `*` aggregates (GANTRY_SECURITY_EVENT_MAX_KEYS). */
  maxKeys: number;
  /** Events waiting for JetStream's ack (GANTRY_SECURITY_EVENT_QUEUE_MAX); beyond it new ones are dropped. */
  queueMax: number;
  publishTimeoutMs?: number;
  /** How long the shutdown waits for the last events' acks. */
  shutdownBudgetMs?: number;
  /** Longest wait between retries while JetStream does not answer. */
  maxBackoffMs?: number;
}

interface Queued {
  id: string;
  subject: string;
  payload: string;
}

/** Publishes at once, each with its own ack: JetStream dedupes by id, order does not matter. */
const CONCURRENCY = 64;
const MIN_BACKOFF_MS = 500;
const BEARER = /^Bearer ([^\s]+)$/i;
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const KIND_OF_TOKEN: Record<TokenKind, DeniedCredentialKind> = { pat: 'pat', install: 'install', runner: 'runner', ciJob: 'ci_job', apiKey: 'api_key' };
const KIND_BY_PREFIX = new Map<string, DeniedCredentialKind>(Object.entries(TOKEN_PREFIXES).map(([kind, prefix]) => [prefix, KIND_OF_TOKEN[kind as TokenKind]]));

/**
 * The gateway's security events (README "Audit stream"): every 401, 403 and 429 it answers is
 * counted per (reason, client, method, route template, credential kind) in a bounded window
 * (DenialAggregator); when the window closes, each key becomes one `gateway.auth.denied` or
 * `gateway.request.rate_limited` event with its count. Events go straight to JetStream with
 * `Nats-Msg-Id` = their (deterministic) id and are dropped from memory only after the ack; failed
 * publishes stay in a bounded queue and are retried with backoff, and a graceful shutdown closes
 * the current window and publishes what it can. Nothing is written to disk: a gateway killed
 * with -9 loses its open window and its queue.
 *
 * The success path pays nothing: only the error filter calls `observe`.
 */
export class SecurityEvents implements OnModuleInit, OnApplicationShutdown {
  private readonly aggregator: DenialAggregator;
  /** Makes ids unique to this process, so a restart under the same gateway id never dedupes against the last run. */
  private readonly bootId = randomUUID();
  private queue: Queued[] = [];
  private version = 0;
  private windowTimer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private backoffMs = 0;
  private publishing: Promise<void> | null = null;
  readonly stats = { published: 0, duplicates: 0, dropped: 0, folded: 0, uncounted: 0 };
  private readonly denials: Counter<'reason'> | null = null;
  private readonly outcomes: Counter<'outcome'> | null = null;

  constructor(
    private readonly publisher: SecurityEventPublisher,
    private readonly options: SecurityEventsOptions,
    private readonly logger: Pick<Logger, 'warn' | 'info'>,
    registry?: Registry,
  ) {
    this.aggregator = new DenialAggregator(options.maxKeys, Date.now());
    if (registry) {
      const registers = [registry];
      this.denials = new Counter({ name: 'gantry_gateway_denials_total', help: 'Requests the gateway refused with 401, 403 or 429, by error code', labelNames: ['reason'], registers });
      this.outcomes = new Counter({
        name: 'gantry_security_events_total',
        help: 'Security events and denials by outcome: published, duplicate (already stored), dropped (queue full or lost at shutdown), folded (counted under ip "*"), uncounted',
        labelNames: ['outcome'],
        registers,
      });
      const queue = () => this.queue.length;
      new Gauge({ name: 'gantry_security_events_queued', help: 'Security events waiting for JetStream', registers, collect() { this.set(queue()); } });
    }
  }

  onModuleInit(): void {
    this.windowTimer = setInterval(() => this.closeWindow(), this.options.intervalMs);
    this.windowTimer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.windowTimer) clearInterval(this.windowTimer);
    this.clearRetry();
    // The HTTP server is closed by now (Nest disposes it before the shutdown hooks): the window is final.
    this.closeWindow(Date.now(), false);
    const budget = this.options.shutdownBudgetMs ?? 3000;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.publishAll(), new Promise<void>((resolve) => (timer = setTimeout(resolve, budget)))]);
    clearTimeout(timer);
    this.clearRetry();
    if (this.queue.length > 0) {
      this.count('dropped', this.queue.length);
      this.logger.warn({ lost: this.queue.length }, 'security events: JetStream did not take these before shutdown; they are lost');
      this.queue = [];
    }
  }

  /** From the error filter: a refused request (401, 403, 429) is counted; any other status is ignored. */
  observe(request: FastifyRequest, status: number, reason: ErrorCode): void {
    if (status !== 401 && status !== 403 && status !== 429) return;
    try {
      const { kind, prefix } = deniedCredential(request, reason);
      this.record({ reason, kind, prefix, ip: clientKey(request.ip), method: request.method, route: request.routeOptions?.url ?? 'unmatched', requestId: request.id });
    } catch (error) {
      // Never let the audit side break the answer itself.
      this.logger.warn({ err: error }, 'security events: could not count a denial');
    }
  }

  record(denial: Denial): void {
    this.denials?.inc({ reason: denial.reason });
    const where = this.aggregator.record(denial);
    if (where === 'folded') this.count('folded');
    else if (where === 'uncounted') this.count('uncounted');
  }

  /** Events waiting for their ack. */
  get queued(): number {
    return this.queue.length;
  }

  /** Ends the current window: one event per key joins the queue, then publishing starts (unless backing off). */
  closeWindow(now = Date.now(), publish = true): void {
    const closed = this.aggregator.close(now);
    if (closed.counts.length === 0) return;
    if (closed.folded > 0 || closed.uncounted > 0) {
      this.logger.warn({ folded: closed.folded, uncounted: closed.uncounted, maxKeys: this.options.maxKeys }, 'security events: more clients were refused this interval than GANTRY_SECURITY_EVENT_MAX_KEYS; the rest are counted under ip "*"');
    }
    for (const count of closed.counts) this.enqueue(this.envelope(count, closed));
    if (publish && !this.retryTimer) void this.publishQueued();
  }

  /** Publishes what is queued; resolves when the queue is empty or a publish failed (then a retry is scheduled). */
  publishQueued(): Promise<void> {
    this.publishing ??= this.publishPass().finally(() => (this.publishing = null));
    return this.publishing;
  }

  /** Waits for a running pass, then publishes the rest once (no retries: for the shutdown). */
  private async publishAll(): Promise<void> {
    await this.publishing;
    if (this.queue.length > 0) await this.publishQueued();
  }

  private async publishPass(): Promise<void> {
    const timeout = this.options.publishTimeoutMs ?? 2000;
    while (this.queue.length > 0) {
      // New events are only ever appended: the head stays this pass's until it settles.
      const batch = this.queue.slice(0, CONCURRENCY);
      const results = await Promise.allSettled(batch.map((event) => this.publisher.publish(event.subject, event.payload, { msgID: event.id, timeout })));
      const failed: Queued[] = [];
      let failure: unknown = null;
      results.forEach((result, i) => {
        if (result.status === 'fulfilled') {
          this.count(result.value?.duplicate ? 'duplicate' : 'published');
        } else {
          failed.push(batch[i]);
          failure = result.reason;
        }
      });
      this.queue.splice(0, batch.length, ...failed);
      if (failed.length > 0) {
        this.scheduleRetry(failure);
        return;
      }
      this.backoffMs = 0;
    }
  }

  private scheduleRetry(failure: unknown): void {
    this.backoffMs = Math.min(this.options.maxBackoffMs ?? 10_000, Math.max(MIN_BACKOFF_MS, this.backoffMs * 2));
    this.logger.warn({ err: String(failure), queued: this.queue.length, retryInMs: this.backoffMs }, 'security events: JetStream did not take them; retrying');
    this.clearRetry();
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.publishQueued();
    }, this.backoffMs);
    this.retryTimer.unref();
  }

  private clearRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private enqueue(envelope: EventEnvelope<DenialAggregate>): void {
    if (this.queue.length >= this.options.queueMax) {
      this.count('dropped');
      return;
    }
    this.queue.push({ id: envelope.id, subject: `events.${envelope.type}`, payload: JSON.stringify(envelope) });
  }

  private envelope(count: DenialCount, window: ClosedWindow): EventEnvelope<DenialAggregate> {
    const contract = count.reason === 'rate_limited' ? GatewayEvents.rateLimited : GatewayEvents.authDenied;
    const windowStart = new Date(window.windowStart).toISOString();
    const windowEnd = new Date(window.windowEnd).toISOString();
    return {
      id: aggregateEventId(this.bootId, window.windowStart, count.key),
      type: contract.type,
      schemaVersion: contract.schemaVersion,
      stream: `gateway:${this.options.gatewayId}`,
      version: ++this.version,
      occurredAt: windowEnd,
      // Refused requests act as nobody; the client is the subject.
      actor: { kind: 'anonymous', id: 'anonymous', name: 'anonymous' },
      subject: { kind: 'client', id: count.ip },
      requestId: count.firstRequestId,
      ip: count.ip === '*' ? null : count.ip,
      data: {
        reason: count.reason, credentialKind: count.kind, credentialPrefix: count.prefix, mixedPrefixes: count.mixedPrefixes,
        ip: count.ip, method: count.method, route: count.route, firstRequestId: count.firstRequestId, count: count.count, windowStart, windowEnd,
      },
    };
  }

  private count(outcome: 'published' | 'duplicate' | 'dropped' | 'folded' | 'uncounted', n = 1): void {
    const key = outcome === 'duplicate' ? 'duplicates' : outcome;
    this.stats[key] += n;
    this.outcomes?.inc({ outcome }, n);
  }
}

/**
 * What the refused request presented, without keeping any of it: the kind (by token prefix, JWT
 * shape, or `password` for a wrong password) and, for a well-formed token with a valid checksum
 * only, its display prefix (`gtp_` + 4 characters, what token lists show).
 */
export function deniedCredential(request: Pick<FastifyRequest, 'headers' | 'principal' | 'body'>, reason: ErrorCode): { kind: DeniedCredentialKind; prefix: string | null } {
  if (reason === 'invalid_credentials') return { kind: 'password', prefix: null };
  let raw: string | null = null;
  const authorization = request.headers.authorization;
  const apiKey = request.headers['x-gantry-key'];
  if (typeof authorization === 'string') raw = BEARER.exec(authorization)?.[1] ?? '';
  else if (typeof apiKey === 'string') raw = apiKey;
  else if (reason === 'invalid_install_token' || reason === 'install_token_already_used') {
    // The install-token exchange carries its token in the body.
    const token = (request.body as { token?: unknown } | undefined)?.token;
    if (typeof token === 'string') raw = token;
  }
  if (raw === null) return { kind: request.principal?.kind ?? 'none', prefix: null };
  const parsed = parseToken(raw);
  if (parsed) return { kind: KIND_OF_TOKEN[parsed.kind], prefix: parsed.displayPrefix };
  const byPrefix = KIND_BY_PREFIX.get(raw.slice(0, 4));
  if (byPrefix) return { kind: byPrefix, prefix: null };
  if (JWT_SHAPE.test(raw)) return { kind: 'session', prefix: null };
  return { kind: request.principal?.kind ?? 'unknown', prefix: null };
}
