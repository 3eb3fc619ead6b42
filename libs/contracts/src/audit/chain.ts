import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { EventEnvelope } from '../envelope';

/**
 * The audit hash chain (DESIGN §7). Each service's events form one chain in the order its relay
 * published them: event `seq` n carries `prevHash` = the `hash` of event n-1 (for n = 1, the
 * service's genesis hash) and `hash` = SHA-256 over the RFC 8785 canonical JSON of the whole
 * envelope without `hash`. Changing, dropping, inserting or reordering an event breaks every link
 * after it, so a subscriber that checks links as events arrive notices.
 */
export interface ChainLink {
  /** Which service's chain: identity, ci-runner, assets. */
  service: string;
  /** 1, 2, 3 … without gaps, per service. */
  seq: number;
  prevHash: string;
  hash: string;
}

export function genesisHash(service: string): string {
  return sha256(`gantry audit chain genesis: ${service}`);
}

/** The hash an envelope must carry: over everything in it except `hash` itself. */
export function envelopeHash(envelope: Omit<EventEnvelope, 'hash'> & { hash?: unknown }): string {
  const { hash: _ignored, ...rest } = envelope;
  const canonical = canonicalize(rest);
  if (canonical === undefined) throw new Error('envelope cannot be canonicalised');
  return sha256(canonical);
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

export type ChainProblem =
  | { kind: 'unchained'; detail: string }
  | { kind: 'gap'; detail: string }
  | { kind: 'broken_link'; detail: string }
  | { kind: 'altered'; detail: string };

/**
 * Checks a chain one envelope at a time, in order. Start at seq 1 (checked against the genesis) or
 * anywhere else by passing the link to trust (the event before the range). `check` returns null for
 * a good event, or what is wrong with it; a verifier stays on the last good event, so a caller can
 * report the first bad one and stop.
 */
export class ChainVerifier {
  private last: { seq: number; hash: string } | null;

  constructor(
    readonly service: string,
    trusted?: { seq: number; hash: string },
  ) {
    this.last = trusted ?? null;
  }

  /** Events checked so far end here. */
  get position(): { seq: number; hash: string } | null {
    return this.last;
  }

  check(envelope: EventEnvelope): ChainProblem | null {
    const { seq, prevHash, hash, service } = envelope;
    if (seq === undefined || prevHash === undefined || hash === undefined) return { kind: 'unchained', detail: `event ${envelope.id} carries no chain fields` };
    if (service !== this.service) return { kind: 'unchained', detail: `event ${envelope.id} belongs to ${service}, not ${this.service}` };
    if (this.last === null && seq !== 1) {
      // An unanchored start (a range): trust its prevHash, check everything from here on.
      this.last = { seq: seq - 1, hash: prevHash };
    }
    const expectedSeq = (this.last?.seq ?? 0) + 1;
    if (seq !== expectedSeq) return { kind: 'gap', detail: `expected seq ${expectedSeq}, got ${seq} (event ${envelope.id})` };
    const expectedPrev = this.last?.hash ?? genesisHash(this.service);
    if (prevHash !== expectedPrev) return { kind: 'broken_link', detail: `seq ${seq} (event ${envelope.id}): prevHash does not match the hash of seq ${seq - 1}` };
    if (envelopeHash(envelope) !== hash) return { kind: 'altered', detail: `seq ${seq} (event ${envelope.id}): content does not match its hash` };
    this.last = { seq, hash };
    return null;
  }
}
