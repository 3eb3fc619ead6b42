import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { jetstreamManager } from '@nats-io/jetstream';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { ChainVerifier, EVENTS_STREAM } from '../../libs/contracts/src';
import { ensureEventsStream } from '../../libs/platform/src/messaging/jetstream';
import { readEventsStream } from '../../libs/platform/src/testing/stream-reader';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Api } from '../support/api';
import { startGantry, type GantryStack } from '../support/gantry-stack';

const run = promisify(execFile);

/** Issue #11: the audit hash chain on what the services publish, and the verify / re-publish tools. */
describe('audit chain', () => {
  let stack: GantryStack;
  let api: Api;
  let nc: NatsConnection;
  let session: string;

  const audit = async (...args: string[]) => {
    const env = {
      ...process.env, GANTRY_DATA_DIR: '/nonexistent', GANTRY_DATABASE_URL: stack.infra.databaseUrl,
      GANTRY_NATS_URL: stack.infra.nats.url, GANTRY_NATS_USER: stack.infra.nats.admin.user, GANTRY_NATS_PASSWORD: stack.infra.nats.admin.pass,
    };
    try {
      const { stdout } = await run(process.execPath, ['dist/scripts/audit.js', ...args], { env });
      return { code: 0, out: stdout };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { code: failed.code, out: failed.stdout + failed.stderr };
    }
  };
  const sql = async (text: string, params: unknown[] = []) => {
    const client = new pg.Client({ connectionString: stack.infra.databaseUrl });
    await client.connect();
    try {
      return (await client.query(text, params)).rows;
    } finally {
      await client.end();
    }
  };
  const published = async () => (await sql('SELECT count(*)::int AS n FROM identity.events WHERE published_at IS NULL'))[0].n === 0;

  beforeAll(async () => {
    stack = await startGantry();
    api = new Api(stack);
    nc = await connect({ servers: stack.infra.nats.url, ...stack.infra.nats.admin });
    session = await api.login(stack.admin.username, stack.admin.password);
    for (let i = 0; i < 5; i++) await api.pat(session, ['repo:read'], `chain-${i}`);
    while (!(await published())) await new Promise((resolve) => setTimeout(resolve, 50));
  });
  afterAll(async () => {
    await nc?.close();
    await stack?.stop();
  });

  it('every identity event on EVENTS is a link of identity\'s chain, from the genesis, in stream order', async () => {
    const envelopes = (await readEventsStream(nc)).filter((e) => e.service === 'identity');
    const total = (await sql('SELECT count(*)::int AS n FROM identity.events'))[0].n;
    expect(envelopes).toHaveLength(total);
    const verifier = new ChainVerifier('identity');
    expect(envelopes.map((e) => verifier.check(e)).filter(Boolean)).toEqual([]);
    expect(envelopes.map((e) => e.seq)).toEqual(envelopes.map((_, i) => i + 1));
  });

  it('audit:verify checks a service\'s chain in PostgreSQL and on JetStream, and a range', async () => {
    const all = await audit('verify', '--service', 'identity');
    expect(all.code).toBe(0);
    expect(all.out).toMatch(/identity \(postgres\): seq 1–\d+ verified/);
    expect(all.out).toMatch(/identity \(jetstream\): seq 1–\d+ verified/);
    const range = await audit('verify', '--service', 'identity', '--from', '2', '--to', '4');
    expect(range.out).toContain('identity (postgres): seq 2–4 verified (3 events)');
    expect((await audit('verify', '--service', 'nobody')).code).toBe(2);
    expect((await audit('verify', '--service', 'identity', '--from', '0')).code).toBe(2);
  });

  it('an event altered in the database is named as the first bad one', async () => {
    const [row] = await sql(`SELECT id, data FROM identity.events WHERE chain_seq = 3`);
    await sql(`UPDATE identity.events SET data = jsonb_set(data, '{name}', '"tampered"') WHERE chain_seq = 3`);
    try {
      const verified = await audit('verify', '--service', 'identity', '--source', 'postgres');
      expect(verified.code).toBe(1);
      expect(verified.out).toContain(`FIRST BAD EVENT after 2 good: altered: seq 3 (event ${row.id})`);
    } finally {
      await sql('UPDATE identity.events SET data = $1 WHERE chain_seq = 3', [row.data]);
    }
  });

  it('after JetStream loses its events, audit:republish puts the same envelopes back and the chain verifies', async () => {
    const before = (await readEventsStream(nc)).filter((e) => e.service === 'identity');
    // A lost stream (its dedupe window with it): delete it and let it be made anew, empty.
    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete(EVENTS_STREAM.name);
    await ensureEventsStream(nc);
    expect((await audit('verify', '--service', 'identity', '--source', 'jetstream')).out).toContain('no chained events');
    const republished = await audit('republish', '--service', 'identity', '--from', '1');
    expect(republished.code).toBe(0);
    expect(republished.out).toContain(`re-published ${before.length} events (0 were still on EVENTS`);
    // Within the duplicate window, a second re-publish changes nothing.
    expect((await audit('republish', '--service', 'identity', '--from', '1')).out).toContain(`(${before.length} were still on EVENTS`);
    const after = (await readEventsStream(nc)).filter((e) => e.service === 'identity');
    expect(after.slice(0, before.length)).toEqual(before); // byte-for-byte the same envelopes
    expect((await audit('verify', '--service', 'identity')).code).toBe(0);
  });
});
