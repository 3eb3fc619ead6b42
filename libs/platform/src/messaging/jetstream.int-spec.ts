import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { jetstreamManager, StorageType } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { EVENTS_STREAM } from '#contracts';
import { testInfra, type TestInfra } from '../testing/test-infra';
import { DUPLICATE_WINDOW_NS, ensureEventsStream, EventsStreamConfigSchema, EventsStreamMismatchError } from './jetstream';
import { connectNats } from './nats-connection';

const config = (env: Record<string, string>) => EventsStreamConfigSchema.parse(env);

describe('the EVENTS stream follows its configuration (real nats-server)', () => {
  let infra: TestInfra;
  let nc: NatsConnection;
  const info = async () => (await (await jetstreamManager(nc)).streams.info(EVENTS_STREAM.name)).config;

  beforeAll(async () => {
    infra = await testInfra();
    nc = await connectNats({ url: infra.nats.url, name: 'stream-config-test', auth: infra.nats.admin });
  });
  afterAll(async () => {
    await nc?.close();
    await infra?.stop();
  });

  it('is created with the defaults: 90 days, 10 GiB (oldest dropped first), one replica, file storage, a 2-minute duplicate window', async () => {
    await ensureEventsStream(nc);
    expect(await info()).toMatchObject({
      max_age: 90 * 86400 * 1e9, max_bytes: 10 * 2 ** 30, num_replicas: 1, storage: StorageType.File, discard: 'old', duplicate_window: DUPLICATE_WINDOW_NS,
    });
  });

  it('is updated in place when the retention settings change, and left alone when they match', async () => {
    await ensureEventsStream(nc, config({ GANTRY_EVENTS_MAX_AGE: '36h', GANTRY_EVENTS_MAX_BYTES: '512MiB' }));
    expect(await info()).toMatchObject({ max_age: 36 * 3600 * 1e9, max_bytes: 512 * 2 ** 20 });
    await ensureEventsStream(nc, config({ GANTRY_EVENTS_MAX_AGE: '0', GANTRY_EVENTS_MAX_BYTES: '0' }));
    expect(await info()).toMatchObject({ max_age: 0, max_bytes: -1 });
    await ensureEventsStream(nc, config({ GANTRY_EVENTS_MAX_AGE: '0', GANTRY_EVENTS_MAX_BYTES: '0' }));
  });

  it('what the server refuses (three replicas on one server) is a startup error naming the settings', async () => {
    const refusal = ensureEventsStream(nc, config({ GANTRY_EVENTS_REPLICAS: '3' }));
    await expect(refusal).rejects.toBeInstanceOf(EventsStreamMismatchError);
    await expect(refusal).rejects.toThrow(/could not be set up with .*replicas 3 \(GANTRY_EVENTS_MAX_AGE, GANTRY_EVENTS_MAX_BYTES, GANTRY_EVENTS_REPLICAS\): .* is a single nats-server/);
    expect((await info()).num_replicas).toBe(1);
  });

  it('a stream in memory storage cannot become file storage in place: a clear error, not a silent change', async () => {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete(EVENTS_STREAM.name);
    await jsm.streams.add({ name: EVENTS_STREAM.name, subjects: [...EVENTS_STREAM.subjects], storage: StorageType.Memory });
    await expect(ensureEventsStream(nc)).rejects.toThrow(/has storage "memory" but Gantry needs "file", which cannot be changed in place/);
  });

  it('bad settings are refused when the configuration is read', () => {
    for (const env of [{ GANTRY_EVENTS_MAX_AGE: '90 days' }, { GANTRY_EVENTS_MAX_AGE: '-1d' }, { GANTRY_EVENTS_MAX_BYTES: '10GB' }, { GANTRY_EVENTS_REPLICAS: '0' }, { GANTRY_EVENTS_REPLICAS: '7' }]) {
      expect(EventsStreamConfigSchema.safeParse(env).success).toBe(false);
    }
  });
});
