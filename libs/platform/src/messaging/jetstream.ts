import { DiscardPolicy, JetStreamApiCodes, JetStreamApiError, RetentionPolicy, StorageType, jetstreamManager, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { z } from 'zod';
import { EVENTS_STREAM } from '#contracts';

/**
 * Window in which JetStream drops a re-published event by its Nats-Msg-Id (= event id). Beyond
 * it, a re-publish (audit:republish, or a relay retrying after an hour-long outage) is stored
 * again, and subscribers dedupe by event id.
 */
export const DUPLICATE_WINDOW_NS = 2 * 60 * 1_000_000_000;

/** JSStreamNameExistErr: "stream name already in use with a different configuration". */
const STREAM_NAME_IN_USE = 10058;
const NS_PER_SECOND = 1_000_000_000;
const UNITS_S = { s: 1, m: 60, h: 3600, d: 86400 } as const;
const UNITS_B = { B: 1, KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30, TiB: 2 ** 40 } as const;

/** `90d`, `36h`, `15m`, `30s`; `0` for no limit. */
const duration = z.string().regex(/^(0|[1-9][0-9]{0,6}[smhd])$/, 'a duration such as 90d, 36h, 15m or 30s; 0 for no limit')
  .transform((text) => (text === '0' ? 0 : Number(text.slice(0, -1)) * UNITS_S[text.slice(-1) as keyof typeof UNITS_S]));
/** `10GiB`, `512MiB`, `1073741824`; `0` for no limit. */
const size = z.string().regex(/^(0|[1-9][0-9]{0,15}(B|KiB|MiB|GiB|TiB)?)$/, 'a size such as 10GiB or 512MiB; 0 for no limit')
  .transform((text) => {
    const [, digits, unit] = /^([0-9]+)([A-Za-z]*)$/.exec(text)!;
    return Number(digits) * (unit ? UNITS_B[unit as keyof typeof UNITS_B] : 1);
  });

/**
 * The EVENTS stream's retention, as every service (and the gateway) configures it: all of them
 * must agree, since each one makes the stream match at start. The oldest events go first when the
 * size cap is reached; PostgreSQL keeps every event, and `npm run audit:republish` restores them.
 */
export const EventsStreamConfigSchema = z.object({
  GANTRY_EVENTS_MAX_AGE: duration.prefault('90d'),
  GANTRY_EVENTS_MAX_BYTES: size.prefault('10GiB'),
  /** 1 on a single nats-server; 3 (or 5) on a JetStream cluster. */
  GANTRY_EVENTS_REPLICAS: z.coerce.number().int().min(1).max(5).default(1),
});
export type EventsStreamConfig = z.infer<typeof EventsStreamConfigSchema>;

export const DEFAULT_EVENTS_STREAM_CONFIG: EventsStreamConfig = EventsStreamConfigSchema.parse({});

/** The stream exists in a form that cannot be changed in place, or refused the change. */
export class EventsStreamMismatchError extends Error {
  override readonly name = 'EventsStreamMismatchError';
}

function wantedConfig(config: EventsStreamConfig): Partial<StreamConfig> & { name: string } {
  return {
    name: EVENTS_STREAM.name,
    subjects: [...EVENTS_STREAM.subjects],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    duplicate_window: DUPLICATE_WINDOW_NS,
    max_age: config.GANTRY_EVENTS_MAX_AGE * NS_PER_SECOND,
    max_bytes: config.GANTRY_EVENTS_MAX_BYTES === 0 ? -1 : config.GANTRY_EVENTS_MAX_BYTES,
    num_replicas: config.GANTRY_EVENTS_REPLICAS,
  };
}

/**
 * Creates the EVENTS stream, or brings its subjects, retention and replicas in line with the
 * configuration. Idempotent and safe when several services start at once (the loser of an add race
 * finds the stream and updates it). What cannot change in place (storage, retention policy) or
 * what the server refuses (e.g. 3 replicas on a single server) is a startup error that says so.
 */
export async function ensureEventsStream(nc: NatsConnection, config: EventsStreamConfig = DEFAULT_EVENTS_STREAM_CONFIG): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const wanted = wantedConfig(config);
  // A single server accepts an update to 3 replicas (2.9) and keeps one: refuse it here instead.
  if (config.GANTRY_EVENTS_REPLICAS > 1 && !nc.info?.cluster) {
    throw refused('set up', wanted, new Error(`${nc.getServer()} is a single nats-server, not a JetStream cluster`));
  }
  for (let attempt = 0; attempt < 3; attempt++) {
    const existing = await streamInfo(jsm);
    if (existing) return reconcile(jsm, existing.config, wanted);
    try {
      await jsm.streams.add(wanted);
      return;
    } catch (error) {
      // Someone else created it between info and add: look again. Anything else is a refusal.
      if (!(error instanceof JetStreamApiError && error.code === STREAM_NAME_IN_USE)) throw refused('created', wanted, error);
    }
  }
}

async function reconcile(jsm: JetStreamManager, actual: StreamConfig, wanted: Partial<StreamConfig>): Promise<void> {
  for (const fixed of ['storage', 'retention'] as const) {
    if (actual[fixed] !== wanted[fixed]) {
      throw new EventsStreamMismatchError(
        `the ${EVENTS_STREAM.name} stream has ${fixed} "${actual[fixed]}" but Gantry needs "${wanted[fixed]}", which cannot be changed in place: ` +
          `back it up or drop it (nats stream rm ${EVENTS_STREAM.name}), start again, then npm run audit:republish restores the events from PostgreSQL`,
      );
    }
  }
  const differs =
    !sameSubjects(actual.subjects, wanted.subjects!) ||
    (['max_age', 'max_bytes', 'num_replicas', 'duplicate_window', 'discard'] as const).some((key) => actual[key] !== wanted[key]);
  if (!differs) return;
  try {
    await jsm.streams.update(EVENTS_STREAM.name, { ...actual, ...wanted });
  } catch (error) {
    throw refused('updated', wanted, error);
  }
}

function refused(what: string, wanted: Partial<StreamConfig>, error: unknown): EventsStreamMismatchError {
  const settings = `max_age ${wanted.max_age! / NS_PER_SECOND}s, max_bytes ${wanted.max_bytes}, replicas ${wanted.num_replicas}`;
  return new EventsStreamMismatchError(
    `the ${EVENTS_STREAM.name} stream could not be ${what} with ${settings} (GANTRY_EVENTS_MAX_AGE, GANTRY_EVENTS_MAX_BYTES, GANTRY_EVENTS_REPLICAS): ${(error as Error).message}`,
    { cause: error },
  );
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
