import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { EVENTS_STREAM, type EventEnvelope } from '#contracts';

/** Reads every message of the EVENTS stream by sequence: what an audit subscriber would see. */
export async function readEventsStream(nc: NatsConnection): Promise<EventEnvelope[]> {
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(EVENTS_STREAM.name);
  const envelopes: EventEnvelope[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const message = await jsm.streams.getMessage(EVENTS_STREAM.name, { seq });
    if (message) envelopes.push(message.json<EventEnvelope>());
  }
  return envelopes;
}
