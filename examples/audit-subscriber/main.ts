import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ChainVerifier, EventEnvelopeSchema, type EventEnvelope } from '#contracts';

/**
 * An audit subscriber: a durable JetStream consumer on `events.>` (or a narrower filter) that
 * prints one line per event, checks each service's hash chain as events arrive, and resumes where
 * it left off after a restart — the consumer's position lives in JetStream, the chain's last
 * verified link per service in a small state file, written before each ack.
 *
 *   node dist/examples/audit-subscriber/main.js [--filter events.identity.>] [--durable audit-example]
 *        [--state audit-subscriber.state.json] [--stack .gantry]
 *
 * NATS: from $GANTRY_DATA_DIR/stack.json (`npm run dev`), or NATS_URL / NATS_USER / NATS_PASSWORD.
 */
const { values } = parseArgs({
  options: {
    filter: { type: 'string', default: 'events.>' },
    durable: { type: 'string', default: 'audit-example' },
    state: { type: 'string', default: 'audit-subscriber.state.json' },
    stack: { type: 'string', default: process.env.GANTRY_DATA_DIR ?? '.gantry' },
  },
});

type Links = Record<string, { seq: number; hash: string }>;

function natsTarget(): { servers: string; user?: string; pass?: string } {
  const stackFile = join(values.stack!, 'stack.json');
  if (!process.env.NATS_URL && existsSync(stackFile)) {
    const stack = JSON.parse(readFileSync(stackFile, 'utf8')) as { nats: { url: string; credentials: { user: string; pass: string } } };
    return { servers: stack.nats.url, ...stack.nats.credentials };
  }
  return { servers: process.env.NATS_URL ?? 'nats://127.0.0.1:4222', user: process.env.NATS_USER, pass: process.env.NATS_PASSWORD };
}

function loadLinks(): Links {
  return existsSync(values.state!) ? (JSON.parse(readFileSync(values.state!, 'utf8')) as Links) : {};
}

function saveLinks(links: Links): void {
  writeFileSync(`${values.state}.tmp`, JSON.stringify(links));
  renameSync(`${values.state}.tmp`, values.state!); // whole or not at all
}

function line(envelope: EventEnvelope, verdict: string): string {
  const subject = envelope.subject ? `${envelope.subject.kind}:${envelope.subject.id}` : '-';
  const place = envelope.service ? `${envelope.service}#${envelope.seq}` : 'unchained';
  return `${envelope.occurredAt} ${place} ${envelope.type} actor=${envelope.actor.name} subject=${subject} id=${envelope.id} ${verdict}`;
}

async function main(): Promise<void> {
  const nc = await connect({ ...natsTarget(), name: `audit-subscriber-${values.durable}`, maxReconnectAttempts: -1 });
  const jsm = await jetstreamManager(nc);
  // Idempotent: the same settings find the existing consumer and its position.
  await jsm.consumers.add('EVENTS', { durable_name: values.durable, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All, filter_subject: values.filter });
  const consumer = await jetstream(nc).consumers.get('EVENTS', values.durable!);
  const links = loadLinks();
  const verifiers = new Map<string, ChainVerifier>();
  const verifierOf = (service: string) => {
    if (!verifiers.has(service)) verifiers.set(service, new ChainVerifier(service, links[service]));
    return verifiers.get(service)!;
  };
  const messages = await consumer.consume({ max_messages: 100 });
  const stop = () => void messages.close();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  console.log(`following ${values.filter} as ${values.durable}`);
  for await (const message of messages) handle(message, verifierOf, links);
  await nc.close();
}

function handle(message: JsMsg, verifierOf: (service: string) => ChainVerifier, links: Links): void {
  const parsed = EventEnvelopeSchema.safeParse(safeJson(message.string()));
  if (!parsed.success) {
    console.log(`NOT AN EVENT on ${message.subject} (stream seq ${message.seq}): ${parsed.error.issues[0].message}`);
    return message.term();
  }
  const envelope = parsed.data as EventEnvelope;
  if (!envelope.service || envelope.seq === undefined) {
    console.log(line(envelope, 'unchained')); // e.g. gateway security events, or events from before the chain
    return message.ack();
  }
  const verifier = verifierOf(envelope.service);
  const verified = verifier.position;
  if (verified && envelope.seq <= verified.seq) {
    // A redelivery of the last event, or a re-publish (audit:republish) of a range already seen:
    // deduplicated by place in the chain. Older links are not kept, so these are not re-checked.
    if (envelope.seq < verified.seq || envelope.hash !== verified.hash) console.log(line(envelope, 'already past it: not checked again'));
    return message.ack();
  }
  const problem = verifier.check(envelope);
  console.log(line(envelope, problem ? `CHAIN ${problem.kind.toUpperCase()}: ${problem.detail}` : 'chain=ok'));
  if (!problem) {
    links[envelope.service] = verifier.position!;
    saveLinks(links);
  }
  message.ack();
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
