import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import pino from 'pino';
import { randomUUID } from 'node:crypto';
import type { EventEnvelope } from '#contracts';
import { testInfra, type TestInfra } from '../testing/test-infra';
import { waitFor } from '../testing/wait-for';
import { DurableConsumer } from './durable-consumer';
import { ensureEventsStream } from './jetstream';
import { connectNats } from './nats-connection';

const envelope = (type: string, n: number): EventEnvelope => ({
  id: randomUUID(), type, schemaVersion: 1, stream: 's', version: n, occurredAt: new Date().toISOString(),
  actor: { kind: 'system', id: 'system', name: 'system' }, subject: { kind: 'thing', id: 't' }, requestId: null, data: { n },
});

describe('durable JetStream consumer (real nats-server)', () => {
  let infra: TestInfra;
  let nc: NatsConnection;
  const logger = pino({ level: 'silent' });
  const publish = async (e: EventEnvelope) => jetstream(nc).publish(`events.${e.type}`, JSON.stringify(e), { msgID: e.id });

  beforeAll(async () => {
    infra = await testInfra();
    nc = await connectNats({ url: infra.nats.url, name: 'consumer-test', auth: infra.nats.admin });
    await ensureEventsStream(nc);
  });
  afterAll(async () => {
    await nc?.close();
    await infra?.stop();
  });

  it('delivers only its filter, resumes after a restart without redelivering acked events', async () => {
    const got: number[] = [];
    const consumer = new DurableConsumer(nc, { durable: 'test-resume', filterSubject: 'events.test.a.>' }, logger);
    await consumer.start(async (e) => void got.push((e.data as { n: number }).n));
    for (let n = 1; n <= 5; n++) await publish(envelope('test.a.happened', n));
    await publish(envelope('test.b.happened', 99));
    await waitFor(() => got.length === 5, { message: 'first five not delivered' });
    await consumer.stop();

    for (let n = 6; n <= 8; n++) await publish(envelope('test.a.happened', n)); // while it is down
    const again = new DurableConsumer(nc, { durable: 'test-resume', filterSubject: 'events.test.a.>' }, logger);
    await again.start(async (e) => void got.push((e.data as { n: number }).n));
    await waitFor(() => got.length === 8, { message: 'events published while down were not delivered' });
    await again.stop();
    expect(got).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('redelivers an event whose handler failed', async () => {
    let attempts = 0;
    const consumer = new DurableConsumer(nc, { durable: 'test-retry', filterSubject: 'events.test.c.>', retryDelayMs: 50 }, logger);
    await consumer.start(async () => {
      attempts++;
      if (attempts < 3) throw new Error('transient');
    });
    await publish(envelope('test.c.happened', 1));
    await waitFor(() => attempts === 3, { message: 'not redelivered after failures' });
    await consumer.stop();
  });
});
