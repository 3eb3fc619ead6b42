import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { GantryError } from '#contracts';
import { Database } from '../db/database';
import type { RequestContext } from '../messaging/request-context';
import { testInfra, type TestInfra } from '../testing/test-infra';
import { createIdempotencyTable } from './idempotency.ddl';
import { Idempotency } from './idempotency';

const Created = z.strictObject({ id: z.string(), token: z.string() });

function contextOf(key: string, body: string, sealKey = randomBytes(32).toString('base64url'), actorId = 'u1'): RequestContext {
  return {
    requestId: randomUUID(), ip: null, actor: { kind: 'user', id: actorId, name: actorId },
    idempotency: { key, fingerprint: createHash('sha256').update(body).digest('hex'), sealKey },
  };
}

describe('Idempotency (real PostgreSQL)', () => {
  let infra: TestInfra;
  let db: Database;
  let idempotency: Idempotency;
  let runs = 0;

  /** A create: counts its runs and writes a row in the caller's transaction. */
  const create = (context: RequestContext, secret = true, delayMs = 0) =>
    db.transaction((tx) =>
      idempotency.once(tx, context, { secret, response: Created }, async () => {
        runs++;
        const id = randomUUID();
        await tx.query('INSERT INTO things (id) VALUES ($1)', [id]);
        if (delayMs) await new Promise((resolve) => setTimeout(resolve, delayMs));
        return { id, token: `gtp_${randomBytes(8).toString('hex')}` };
      }),
    );
  const code = (promise: Promise<unknown>) => promise.then(() => 'ok', (error: unknown) => (error instanceof GantryError ? error.code : String(error)));

  beforeAll(async () => {
    infra = await testInfra();
    db = new Database({ url: infra.databaseUrl, schema: 'public', poolSize: 12, applicationName: 'idempotency-test' });
    await createIdempotencyTable(db as unknown as Parameters<typeof createIdempotencyTable>[0]);
    await db.query('CREATE TABLE things (id uuid PRIMARY KEY)');
    idempotency = new Idempotency(db);
  });
  afterAll(async () => {
    await db?.close();
    await infra?.stop();
  });

  it('runs the work once: a replay with the same key and request returns the first response', async () => {
    const context = contextOf(randomUUID(), '{"name":"a"}');
    const before = runs;
    const first = await create(context);
    const again = await create(context);
    expect(again).toEqual(first);
    expect(runs - before).toBe(1);
    expect((await db.query('SELECT 1 FROM things WHERE id = $1', [first.id])).rowCount).toBe(1);
  });

  it('stores a secret response sealed (never in clear) and a plain one as JSON', async () => {
    const secret = contextOf(randomUUID(), '{}');
    const created = await create(secret, true);
    const plain = contextOf(randomUUID(), '{}');
    await create(plain, false);
    const { rows } = await db.query<{ key: string; sealed: boolean; response: Buffer }>('SELECT key, sealed, response FROM idempotency_keys WHERE key = ANY($1)', [[secret.idempotency!.key, plain.idempotency!.key]]);
    const sealed = rows.find((row) => row.key === secret.idempotency!.key)!;
    expect(sealed.sealed).toBe(true);
    expect(sealed.response.toString('latin1')).not.toContain(created.token);
    expect(JSON.parse(rows.find((row) => row.key === plain.idempotency!.key)!.response.toString())).toHaveProperty('token');
  });

  it('refuses the same key with a different request: idempotency_key_reused, and nothing runs', async () => {
    const key = randomUUID();
    await create(contextOf(key, '{"name":"a"}'));
    const before = runs;
    expect(await code(create(contextOf(key, '{"name":"b"}')))).toBe('idempotency_key_reused');
    expect(runs).toBe(before);
  });

  it('opens a sealed response only with the sealKey of the credential that made it', async () => {
    const context = contextOf(randomUUID(), '{}');
    await create(context, true);
    const otherCredential = { ...context, idempotency: { ...context.idempotency!, sealKey: randomBytes(32).toString('base64url') } };
    expect(await code(create(otherCredential, true))).toBe('idempotency_key_other_credential');
    // A non-secret response goes to any credential of the same actor.
    const plain = contextOf(randomUUID(), '{}');
    const first = await create(plain, false);
    expect(await create({ ...plain, idempotency: { ...plain.idempotency!, sealKey: randomBytes(32).toString('base64url') } }, false)).toEqual(first);
  });

  it('keys are per actor: another actor with the same key gets its own result', async () => {
    const key = randomUUID();
    const mine = await create(contextOf(key, '{}', undefined, 'u1'));
    const theirs = await create(contextOf(key, '{}', undefined, 'u2'));
    expect(theirs.id).not.toBe(mine.id);
  });

  it('an expired key counts as absent: the work runs again (and then the new response is kept)', async () => {
    const context = contextOf(randomUUID(), '{}');
    const first = await create(context);
    await db.query(`UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE key = $1`, [context.idempotency!.key]);
    const second = await create(context);
    expect(second.id).not.toBe(first.id);
    expect(await create(context)).toEqual(second);
    // Even with another body: an expired key is free.
    await db.query(`UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE key = $1`, [context.idempotency!.key]);
    expect(await code(create(contextOf(context.idempotency!.key, '{"other":1}', context.idempotency!.sealKey)))).toBe('ok');
  });

  it('the sweep deletes expired keys only', async () => {
    const live = contextOf(randomUUID(), '{}');
    const old = contextOf(randomUUID(), '{}');
    await create(live);
    await create(old);
    await db.query(`UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE key = $1`, [old.idempotency!.key]);
    expect(await idempotency.sweep()).toBeGreaterThanOrEqual(1);
    const { rows } = await db.query<{ key: string }>('SELECT key FROM idempotency_keys WHERE key = ANY($1)', [[live.idempotency!.key, old.idempotency!.key]]);
    expect(rows.map((row) => row.key)).toEqual([live.idempotency!.key]);
  });

  it('concurrent requests with the same key run the work once and all get its response', async () => {
    const context = contextOf(randomUUID(), '{}');
    const before = runs;
    const results = await Promise.all(Array.from({ length: 8 }, () => create(context, true, 100)));
    expect(runs - before).toBe(1);
    for (const result of results) expect(result).toEqual(results[0]);
    expect((await db.query('SELECT 1 FROM things WHERE id = $1', [results[0].id])).rowCount).toBe(1);
  });

  it('a first request that rolls back leaves the key free: a waiting second one runs', async () => {
    const context = contextOf(randomUUID(), '{}');
    const failing = db.transaction((tx) =>
      idempotency.once(tx, context, { secret: true }, async () => {
        await new Promise((resolve) => setTimeout(resolve, 150));
        throw new GantryError('conflict', 'refused');
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 30)); // the first holds the row now
    const second = create(context);
    expect(await code(failing)).toBe('conflict');
    const created = await second;
    expect(await create(context)).toEqual(created);
  });

  it('alsoFingerprint: service-side content (an upload\'s SHA-256) makes another request of the same head', async () => {
    const context = contextOf(randomUUID(), '{"size":5}');
    const run = (sha256: string) => db.transaction((tx) => idempotency.once(tx, context, { secret: false, alsoFingerprint: sha256 }, async () => ({ sha256 })));
    expect(await run('a'.repeat(64))).toEqual({ sha256: 'a'.repeat(64) });
    expect(await run('a'.repeat(64))).toEqual({ sha256: 'a'.repeat(64) });
    expect(await code(run('b'.repeat(64)))).toBe('idempotency_key_reused');
  });

  it('remember false: a result committed by the work but not kept leaves the key free; seen() tells a live key', async () => {
    const context = contextOf(randomUUID(), '{}');
    expect(await db.transaction((tx) => idempotency.seen(tx, context))).toBe(false);
    const refused = await db.transaction((tx) => idempotency.once(tx, context, { secret: false, remember: (r: { ok: boolean }) => r.ok }, async () => ({ ok: false })));
    expect(refused).toEqual({ ok: false });
    expect(await db.transaction((tx) => idempotency.seen(tx, context))).toBe(false);
    const created = await create(context);
    expect(await db.transaction((tx) => idempotency.seen(tx, context))).toBe(true);
    expect(await create(context)).toEqual(created);
  });

  it('without a key (or for an anonymous actor) the work simply runs', async () => {
    const before = runs;
    const none: RequestContext = { requestId: null, ip: null, actor: { kind: 'user', id: 'u1', name: 'u1' }, idempotency: null };
    await create(none);
    await create(none);
    const anonymous = { ...contextOf(randomUUID(), '{}'), actor: { kind: 'anonymous' as const, id: 'anonymous', name: 'anonymous' } };
    await create(anonymous);
    await create(anonymous);
    expect(runs - before).toBe(4);
  });
});
