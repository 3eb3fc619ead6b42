import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NatsConnection } from '@nats-io/transport-node';
import pino from 'pino';
import { z } from 'zod';
import { defineEvent, SYSTEM_ACTOR } from '#contracts';
import { Database } from '../db/database';
import { runMigrations } from '../db/migrations';
import { ensureEventsStream } from '../messaging/jetstream';
import { connectNats } from '../messaging/nats-connection';
import { testInfra, type TestInfra } from '../testing/test-infra';
import { verifyPublishedChain, verifyStoredChain } from './chain-audit';
import { EventStoreInitial1730000000000 } from './event-store.ddl';
import { eventChainMigration } from './event-chain';
import { EventStore } from './event-store';
import { OutboxRelay } from './outbox-relay';

const Noted = defineEvent('chaintest.note.added', 1, z.strictObject({ n: z.number().int() }));
const SCHEMA = 'chaintest';

/** Events that existed before the chain get their links from the migration; the relay goes on from there. */
describe('event chain migration (real PostgreSQL and nats-server)', () => {
  let infra: TestInfra;
  let db: Database;
  let store: EventStore;
  let nc: NatsConnection;
  const add = (n: number) =>
    store.execute((tx) => store.append(tx, `note-${n}`, 0, [{ contract: Noted, data: { n }, subject: { kind: 'note', id: String(n) } }], { actor: SYSTEM_ACTOR, requestId: null, ip: null }));

  beforeAll(async () => {
    infra = await testInfra();
    await runMigrations(infra.databaseUrl, SCHEMA, [EventStoreInitial1730000000000]);
    db = new Database({ url: infra.databaseUrl, schema: SCHEMA, poolSize: 4, applicationName: 'test' });
    store = new EventStore(db, []);
    nc = await connectNats({ url: infra.nats.url, name: 'chain-test', auth: infra.nats.admin });
    await ensureEventsStream(nc);
  });
  afterAll(async () => {
    await nc?.close();
    await db?.close();
    await infra?.stop();
  });

  it('chains the events published before it, in publication order; the relay continues the chain', async () => {
    for (let n = 1; n <= 5; n++) await add(n);
    await db.query('UPDATE events SET published_at = now()'); // published by a relay that knew no chain
    for (let n = 6; n <= 7; n++) await add(n);
    await runMigrations(infra.databaseUrl, SCHEMA, [EventStoreInitial1730000000000, eventChainMigration(SCHEMA)]);

    const migrated = await verifyStoredChain(db, SCHEMA);
    expect(migrated).toMatchObject({ checked: 5, first: 1, last: 5, problem: null });

    const relay = new OutboxRelay(db, nc, { pollMs: 60_000, notifyChannel: store.notifyChannel, service: SCHEMA }, pino({ level: 'silent' }));
    await relay.flush();
    expect(await verifyStoredChain(db, SCHEMA)).toMatchObject({ checked: 7, last: 7, problem: null });
    // On JetStream only what the relay sent carries links: seq 6 and 7, checked from seq 6's prevHash.
    expect(await verifyPublishedChain(nc, SCHEMA)).toMatchObject({ checked: 2, first: 6, last: 7, problem: null });
    const { rows } = await db.query<{ n: number }>(`SELECT (data->>'n')::int AS n FROM events ORDER BY chain_seq`);
    expect(rows.map((r) => r.n)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });
});
