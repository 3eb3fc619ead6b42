import { JetStreamApiCodes, JetStreamApiError, StorageType, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { EVENTS_STREAM } from '#contracts';

/** Window in which JetStream drops a re-published event by its Nats-Msg-Id (= event id). */
export const DUPLICATE_WINDOW_NS = 2 * 60 * 1_000_000_000;

/**
 * Creates the EVENTS stream, or brings its subjects up to date. Idempotent and safe when several
 * services start at once (the loser of an add race finds the stream and updates it).
 */
export async function ensureEventsStream(nc: NatsConnection): Promise<void> {
  const jsm = await jetstreamManager(nc);
  for (let attempt = 0; attempt < 3; attempt++) {
    const existing = await streamInfo(jsm);
    if (existing) {
      if (sameSubjects(existing.config.subjects, EVENTS_STREAM.subjects)) return;
      await jsm.streams.update(EVENTS_STREAM.name, { subjects: [...EVENTS_STREAM.subjects] });
      return;
    }
    try {
      await jsm.streams.add({
        name: EVENTS_STREAM.name,
        subjects: [...EVENTS_STREAM.subjects],
        storage: StorageType.File,
        duplicate_window: DUPLICATE_WINDOW_NS,
      });
      return;
    } catch (error) {
      if (attempt === 2) throw error; // someone else created it between info and add: look again
    }
  }
}

async function streamInfo(jsm: JetStreamManager) {
  try {
    return await jsm.streams.info(EVENTS_STREAM.name);
  } catch (error) {
    if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound) return null;
    throw error;
  }
}

function sameSubjects(actual: string[] | undefined, wanted: readonly string[]): boolean {
  return !!actual && actual.length === wanted.length && wanted.every((subject) => actual.includes(subject));
}
