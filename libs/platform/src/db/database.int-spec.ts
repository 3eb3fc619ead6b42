import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { testInfra, type TestInfra } from '../testing/test-infra';
import { waitFor } from '../testing/wait-for';
import { Database } from './database';

describe('Database (real PostgreSQL)', () => {
  let infra: TestInfra;
  let db: Database;
  let admin: Database;

  beforeAll(async () => {
    infra = await testInfra();
    db = new Database({ url: infra.databaseUrl, schema: 'public', poolSize: 2, applicationName: 'db-test' });
    admin = new Database({ url: infra.databaseUrl, schema: 'public', poolSize: 1, applicationName: 'db-test-admin' });
  });
  afterAll(async () => {
    await db?.close();
    await admin?.close();
    await infra?.stop();
  });

  // A database restart ends every connection at once, also one held between two queries of a
  // transaction (the relay awaits NATS acks there). That must fail the transaction, not the process.
  it('a connection lost between two queries of a transaction fails that transaction, and the pool recovers', async () => {
    const transaction = db.transaction(async (tx) => {
      const { rows } = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      await admin.query('SELECT pg_terminate_backend($1)', [rows[0].pid]);
      // Idle on purpose until the server's goodbye has arrived on this connection.
      await waitFor(async () => (await admin.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [rows[0].pid])).rowCount === 0, {
        message: 'backend not terminated',
      });
      await new Promise((resolve) => setTimeout(resolve, 100));
      return 'committed';
    });
    await expect(transaction).rejects.toThrow();
    expect(await db.isUp()).toBe(true);
    await expect(db.transaction(async (tx) => (await tx.query<{ one: number }>('SELECT 1 AS one')).rows[0].one)).resolves.toBe(1);
  });

  // A fast shutdown (57P01) can arrive in the same read as the message that completes a checkout:
  // pg emits 'error' on a client that pg-pool has just handed out (its idle listener removed) before
  // the caller could listen. That was an unhandled 'error' event: the process died (chaos suite).
  it('a client that reports a lost connection between checkout and its first query does not crash the process', async () => {
    const fresh = new Database({ url: infra.databaseUrl, schema: 'public', poolSize: 1, applicationName: 'db-test-checkout' });
    try {
      const client = await fresh.pool.connect();
      expect(() => client.emit('error', Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }))).not.toThrow();
      client.release(true);
      expect(await fresh.isUp()).toBe(true);
    } finally {
      await fresh.close();
    }
  });
});
