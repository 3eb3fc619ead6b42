import { Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { z } from 'zod';
import { GantryError } from '#contracts';
import { Database, type Tx } from '../db/database';
import type { IdempotencyContext, RequestContext } from '../messaging/request-context';

/** How long a key and its first response are kept: a retry after that creates anew. */
export const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;
/** How often, and how many rows at most at a time, expired keys are deleted. */
const SWEEP_INTERVAL_MS = 10 * 60_000;
const SWEEP_BATCH = 1000;

export interface OnceOptions<T> {
  /** The response holds a secret (a raw token, a generated password): stored sealed. */
  secret: boolean;
  /** The contract's response schema: a stored response is parsed with it before it is returned. */
  response?: z.ZodType;
  /**
   * False for a result that must not be kept: a refusal the work commits (an aborted upload)
   * rather than throws. The key then stays free for a retry.
   */
  remember?: (result: T) => boolean;
  /**
   * Request content only the service sees, added to the gateway's fingerprint: an upload's SHA-256
   * (the gateway streams the body and cannot hash it before it forwards the request).
   */
  alsoFingerprint?: string;
}

interface KeyRow {
  fingerprint: string;
  sealed: boolean;
  response: Buffer | null;
}

const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * `Idempotency-Key` support for creating requests: the first response under a key is stored in the
 * create's own transaction (so it exists exactly when the created thing does) and returned again
 * for a retry with the same key and the same request, for 24 h.
 */
@Injectable()
export class Idempotency implements OnApplicationBootstrap, OnApplicationShutdown {
  private sweeper?: NodeJS.Timeout;

  constructor(private readonly db: Database) {}

  /**
   * Runs `work` in `tx` unless this actor already used the request's key: then returns the stored
   * first response (work does not run), or refuses a different request (409
   * idempotency_key_reused), or a sealed response this credential cannot open (409
   * idempotency_key_other_credential). A concurrent request with the same key waits on the first
   * one's uncommitted row and then reads its response; if the first rolls back, it runs itself.
   * Without a key (or for an anonymous actor, whose keys would be shared) `work` just runs.
   */
  async once<T>(tx: Tx, context: RequestContext, options: OnceOptions<T>, work: () => Promise<T>): Promise<T> {
    const given = context.idempotency;
    if (!given || context.actor.kind === 'anonymous') return work();
    const idempotency = options.alsoFingerprint === undefined ? given
      : { ...given, fingerprint: createHash('sha256').update(`${given.fingerprint}\n${options.alsoFingerprint}`).digest('hex') };
    const scope = scopeOf(context);
    // An expired row counts as absent: it is taken over. A live one is left as it is (and locked).
    const claimed = await tx.query(
      `INSERT INTO idempotency_keys AS k (scope, key, fingerprint, sealed, expires_at)
            VALUES ($1, $2, $3, $4, now() + $5 * interval '1 second')
       ON CONFLICT (scope, key) DO UPDATE
             SET fingerprint = EXCLUDED.fingerprint, sealed = EXCLUDED.sealed, response = NULL, created_at = now(), expires_at = EXCLUDED.expires_at
           WHERE k.expires_at <= now()
       RETURNING 1`,
      [scope, idempotency.key, idempotency.fingerprint, options.secret, IDEMPOTENCY_TTL_SECONDS],
    );
    if (claimed.rowCount) {
      const result = await work();
      if (options.remember && !options.remember(result)) {
        await tx.query('DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2', [scope, idempotency.key]);
        return result;
      }
      const json = Buffer.from(JSON.stringify(result));
      const stored = options.secret ? seal(json, idempotency, scope) : json;
      await tx.query('UPDATE idempotency_keys SET response = $3 WHERE scope = $1 AND key = $2', [scope, idempotency.key, stored]);
      return result;
    }
    const { rows } = await tx.query<KeyRow>('SELECT fingerprint, sealed, response FROM idempotency_keys WHERE scope = $1 AND key = $2', [scope, idempotency.key]);
    const row = rows[0];
    if (!row) throw new GantryError('idempotency_key_in_use', 'the first request with this Idempotency-Key is still being processed; retry');
    if (row.fingerprint !== idempotency.fingerprint) {
      throw new GantryError('idempotency_key_reused', 'this Idempotency-Key was used with a different request (endpoint or body) in the last 24 hours', 'Idempotency-Key');
    }
    // Written in the same transaction as the row: a committed row always has its response.
    if (!row.response) throw new GantryError('idempotency_key_in_use', 'the first request with this Idempotency-Key is still being processed; retry');
    const json = row.sealed ? open(row.response, idempotency, scope) : row.response;
    const value: unknown = JSON.parse(json.toString('utf8'));
    return (options.response ? options.response.parse(value) : value) as T;
  }

  /**
   * Whether this actor has a live key like the request's (no lock, no fingerprint check): an upload
   * retried under a key that already completed skips its preconditions (If-None-Match would now
   * fail) and gets the first response at completion.
   */
  async seen(tx: Tx, context: RequestContext): Promise<boolean> {
    if (!context.idempotency || context.actor.kind === 'anonymous') return false;
    const { rowCount } = await tx.query('SELECT 1 FROM idempotency_keys WHERE scope = $1 AND key = $2 AND expires_at > now()', [scopeOf(context), context.idempotency.key]);
    return rowCount === 1;
  }

  /** Deletes expired keys, a bounded batch at a time; returns how many. */
  async sweep(): Promise<number> {
    const result = await this.db.query(
      `DELETE FROM idempotency_keys WHERE ctid IN (SELECT ctid FROM idempotency_keys WHERE expires_at <= now() LIMIT ${SWEEP_BATCH})`,
    );
    return result.rowCount ?? 0;
  }

  onApplicationBootstrap(): void {
    // Expired rows are already ignored by once(); the sweep only keeps the table small.
    this.sweeper = setInterval(() => void this.sweep().catch(() => undefined), SWEEP_INTERVAL_MS);
    this.sweeper.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.sweeper);
  }
}

/** Keys are per actor: the same key from two users are two keys. */
function scopeOf(context: RequestContext): string {
  return `${context.actor.kind}:${context.actor.id}`;
}

/**
 * AES-256-GCM under the request's sealKey, which the gateway derives from the caller's raw
 * credential: the service cannot open it alone, and another credential of the same actor gets a
 * failed tag. The scope, key and fingerprint are bound in as associated data.
 */
function seal(plain: Buffer, idempotency: IdempotencyContext, scope: string): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', sealKeyOf(idempotency), iv);
  cipher.setAAD(aadOf(idempotency, scope));
  const body = Buffer.concat([cipher.update(plain), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]);
}

function open(sealed: Buffer, idempotency: IdempotencyContext, scope: string): Buffer {
  try {
    const decipher = createDecipheriv('aes-256-gcm', sealKeyOf(idempotency), sealed.subarray(0, IV_BYTES));
    decipher.setAAD(aadOf(idempotency, scope));
    decipher.setAuthTag(sealed.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
  } catch {
    throw new GantryError('idempotency_key_other_credential', 'the first response under this Idempotency-Key holds a secret and was made with another credential; use a new key', 'Idempotency-Key');
  }
}

function sealKeyOf(idempotency: IdempotencyContext): Buffer {
  return Buffer.from(idempotency.sealKey, 'base64url');
}

function aadOf(idempotency: IdempotencyContext, scope: string): Buffer {
  return Buffer.from(`${scope}\n${idempotency.key}\n${idempotency.fingerprint}`);
}
