import { createHash } from 'node:crypto';
import type { DeniedCredentialKind, ErrorCode } from '#contracts';

/** One refused request, as the error filter saw it (never the credential itself). */
export interface Denial {
  reason: ErrorCode;
  kind: DeniedCredentialKind;
  /** Display prefix (`gtp_AbCd`) of a well-formed token, else null. */
  prefix: string | null;
  /** The client key (IPv4 address or IPv6 /64). */
  ip: string;
  method: string;
  /** Route template, never the raw URL. */
  route: string;
  requestId: string;
}

/** All refusals of one key in one window. */
export interface DenialCount {
  /** The aggregation key (reason, ip, method, route, kind); also what the event id is derived from. */
  key: string;
  reason: ErrorCode;
  kind: DeniedCredentialKind;
  prefix: string | null;
  mixedPrefixes: boolean;
  /** The client key, or `*` for the overflow aggregate of a full window. */
  ip: string;
  method: string;
  route: string;
  firstRequestId: string;
  count: number;
}

export interface ClosedWindow {
  windowStart: number;
  windowEnd: number;
  counts: DenialCount[];
  /** Refusals folded into `*` aggregates because the window already held `maxKeys` keys. */
  folded: number;
  /** Refusals not counted at all (the overflow aggregates were full too: only metrics saw them). */
  uncounted: number;
}

/**
 * Overflow aggregates are keyed by (reason, method, route, kind): values the gateway, not the
 * client, chooses (error codes, route templates, methods of matched routes), so there are only a
 * few hundred; this cap only guards against a bug.
 */
export const MAX_OVERFLOW_KEYS = 1024;

/**
 * Counts refusals per (reason, client, method, route template, credential kind) within one window.
 * Bounded: at most `maxKeys` per-client keys a window; refusals with a new key beyond that are
 * folded into one aggregate per (reason, method, route, kind) with ip `*`. Closing a window hands
 * back its counts and starts the next one empty, so memory never exceeds one window's keys.
 */
export class DenialAggregator {
  private keys = new Map<string, DenialCount>();
  private overflow = new Map<string, DenialCount>();
  private folded = 0;
  private uncounted = 0;

  constructor(
    private readonly maxKeys: number,
    private windowStart: number,
  ) {}

  /** Keys held in the current window (per-client and overflow). */
  get size(): number {
    return this.keys.size + this.overflow.size;
  }

  /** Counts one refusal; returns where it went. */
  record(denial: Denial): 'counted' | 'folded' | 'uncounted' {
    const tail = `\u0000${denial.method}\u0000${denial.route}\u0000${denial.kind}`;
    const key = `${denial.reason}\u0000${denial.ip}${tail}`;
    const existing = this.keys.get(key);
    if (existing) {
      add(existing, denial);
      return 'counted';
    }
    if (this.keys.size < this.maxKeys) {
      this.keys.set(key, start(key, denial, denial.ip));
      return 'counted';
    }
    const overflowKey = `${denial.reason}\u0000*${tail}`;
    const folded = this.overflow.get(overflowKey);
    if (folded) add(folded, denial);
    else if (this.overflow.size < MAX_OVERFLOW_KEYS) this.overflow.set(overflowKey, start(overflowKey, denial, '*'));
    else {
      this.uncounted++;
      return 'uncounted';
    }
    this.folded++;
    return 'folded';
  }

  /** Ends the current window at `now` and starts the next one. */
  close(now: number): ClosedWindow {
    const closed: ClosedWindow = { windowStart: this.windowStart, windowEnd: now, counts: [...this.keys.values(), ...this.overflow.values()], folded: this.folded, uncounted: this.uncounted };
    this.keys = new Map();
    this.overflow = new Map();
    this.folded = 0;
    this.uncounted = 0;
    this.windowStart = now;
    return closed;
  }
}

function start(key: string, denial: Denial, ip: string): DenialCount {
  return {
    key, reason: denial.reason, kind: denial.kind, prefix: denial.prefix, mixedPrefixes: false,
    ip, method: denial.method, route: denial.route, firstRequestId: denial.requestId, count: 1,
  };
}

function add(count: DenialCount, denial: Denial): void {
  count.count++;
  if (denial.prefix !== count.prefix) count.mixedPrefixes = true;
}

/**
 * The event id of one aggregate: a UUIDv7 whose time is the window's start and whose other 74
 * bits come from SHA-256 over this gateway process (`bootId`), the window and the key. The same
 * aggregate always gets the same id, so a publish retried after a lost ack is dropped by
 * JetStream's Nats-Msg-Id dedupe; another process (a restart under the same GANTRY_GATEWAY_ID)
 * never collides with it.
 */
export function aggregateEventId(bootId: string, windowStart: number, key: string): string {
  const digest = createHash('sha256').update(`${bootId}\u0000${windowStart}\u0000${key}`).digest();
  const bytes = Buffer.alloc(16);
  bytes.writeUIntBE(windowStart, 0, 6);
  digest.copy(bytes, 6, 0, 10);
  bytes[6] = 0x70 | (bytes[6] & 0x0f);
  bytes[8] = 0x80 | (bytes[8] & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
