import { describe, expect, it } from '@jest/globals';
import * as contracts from '#contracts';
import { ALL_EVENTS, CiEvents, IdentityEvents, RunLive, type RequestContract, type SignalContract } from '#contracts';
import { REPO_DELETED_CONSUMER } from '../../../../apps/assets/src/repo-deleted/repo-deleted.consumer';
import { RUN_ENDED_CONSUMER } from '../../../../apps/identity/src/ci-tokens/run-ended.consumer';
import { GATEWAY_REQUESTS, NATS_DURABLE_CONSUMERS, NATS_PERMISSIONS, NATS_SERVICE_USERS, natsAuthorizationBlock, SERVICE_ONLY_REQUESTS, type NatsServiceUser } from './nats-permissions';

/** NATS subject matching: `*` one token, `>` one or more trailing tokens. */
function matches(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return s.length > i;
    if (i >= s.length || (p[i] !== '*' && p[i] !== s[i])) return false;
  }
  return p.length === s.length;
}
const may = (user: NatsServiceUser, action: 'publish' | 'subscribe', subject: string) => NATS_PERMISSIONS[user][action].some((pattern) => matches(pattern, subject));
const who = (action: 'publish' | 'subscribe', subject: string) => NATS_SERVICE_USERS.filter((user) => may(user, action, subject));

/** Every contract of a kind anywhere in libs/contracts' exports. */
function collect<T extends { kind: string }>(kind: string): T[] {
  const found = new Set<T>();
  const walk = (value: unknown, depth: number) => {
    if (!value || typeof value !== 'object' || depth > 4) return;
    if ((value as { kind?: unknown }).kind === kind) found.add(value as T);
    else for (const inner of Object.values(value)) walk(inner, depth + 1);
  };
  walk(contracts, 0);
  return [...found];
}
const REQUESTS = collect<RequestContract>('request').map((c) => c.subject);
const SIGNALS = collect<SignalContract>('signal').map((c) => c.subject);
const OWNER: Record<string, NatsServiceUser> = { identity: 'identity', assets: 'assets', ci: 'ci-runner', gateway: 'gateway' };

/** Who sends and who hears each core-NATS broadcast. A new signal fails here until it is added (and to nats-permissions.ts). */
const SIGNAL_FLOWS: Record<string, { publish: NatsServiceUser[]; subscribe: NatsServiceUser[] }> = {
  'gateway.presence.heartbeat.v1': { publish: ['gateway'], subscribe: ['identity'] },
  'gateway.auth.invalidate.v1': { publish: ['identity'], subscribe: ['gateway'] },
  'identity.presence.heartbeat.v1': { publish: ['identity'], subscribe: ['identity', 'gateway'] },
  'ci.run.remote_queued.v1': { publish: ['ci-runner'], subscribe: ['ci-runner', 'gateway'] },
};

describe('NATS permissions (nats-permissions.ts) against libs/contracts', () => {
  it('knows every request subject: the gateway may send it, or only another service does', () => {
    expect(REQUESTS.length).toBeGreaterThan(50);
    const known = [...GATEWAY_REQUESTS, ...SERVICE_ONLY_REQUESTS];
    expect(REQUESTS.filter((subject) => !known.includes(subject as never))).toEqual([]);
    expect(known.filter((subject) => !REQUESTS.includes(subject))).toEqual([]);
    expect(new Set(known).size).toBe(known.length);
  });

  it('lets only the owning service serve a request subject, and only its callers send it', () => {
    for (const subject of REQUESTS) {
      const owner = OWNER[subject.split('.')[0]];
      // The owner and those whose subscriptions cover all of it (ci-runner's `ci.>`).
      expect({ subject, served: who('subscribe', subject) }).toEqual({ subject, served: [owner] });
      expect({ subject, gateway: may('gateway', 'publish', subject) }).toEqual({ subject, gateway: GATEWAY_REQUESTS.includes(subject as never) });
    }
    expect(who('publish', 'identity.ci_token.issue.v1')).toEqual(['ci-runner']);
    expect(who('publish', 'identity.repo.access.v1').sort()).toEqual(['ci-runner', 'gateway']);
    expect(who('publish', 'identity.user.create.v1')).toEqual(['gateway']);
  });

  it('lets only the owning service publish its events; the gateway only its own security events', () => {
    for (const event of ALL_EVENTS) {
      const owner = OWNER[event.type.split('.')[0]];
      expect({ subject: event.subject, publishers: who('publish', event.subject) }).toEqual({ subject: event.subject, publishers: [owner] });
    }
    // The gateway's own security events (published straight to JetStream, acked on its inbox), nothing else.
    expect(NATS_PERMISSIONS.gateway.publish.filter((pattern) => pattern.startsWith('events.') || pattern === '>')).toEqual(['events.gateway.>']);
    for (const subject of ['events.identity.user.created', 'events.ci.run.ended', 'events.assets.asset.uploaded', '$JS.API.STREAM.CREATE.EVENTS']) {
      expect({ subject, gateway: may('gateway', 'publish', subject) }).toEqual({ subject, gateway: false });
    }
    // Nobody but the gateway publishes gateway events.
    expect(who('publish', 'events.gateway.auth.denied')).toEqual(['gateway']);
    // Nobody hears events on core NATS: only through JetStream consumers (their own, filtered).
    for (const user of NATS_SERVICE_USERS) expect(NATS_PERMISSIONS[user].subscribe.filter((pattern) => pattern.startsWith('events.'))).toEqual([]);
  });

  it('routes every broadcast signal and live run subject from its one sender to its listeners', () => {
    expect(SIGNALS.filter((subject) => !SIGNAL_FLOWS[subject])).toEqual([]);
    for (const [subject, flow] of Object.entries(SIGNAL_FLOWS)) {
      expect({ subject, publish: who('publish', subject) }).toEqual({ subject, publish: flow.publish });
      expect({ subject, subscribe: who('subscribe', subject) }).toEqual({ subject, subscribe: flow.subscribe });
    }
    const runId = '0190a0a0-0000-7000-8000-000000000001';
    expect(who('publish', RunLive.log.subject(runId))).toEqual(['ci-runner']);
    expect(who('publish', RunLive.status.subject(runId))).toEqual(['ci-runner']);
    expect(who('publish', RunLive.cancel.subject(runId))).toEqual(['ci-runner']);
    expect(who('subscribe', RunLive.log.subject(runId))).toEqual(['ci-runner', 'gateway']);
    expect(who('subscribe', RunLive.cancel.subject(runId))).toEqual(['ci-runner']);
  });

  it('gives each user its own reply inbox and nobody another\'s; replies only to received requests', () => {
    for (const user of NATS_SERVICE_USERS) {
      expect(who('subscribe', `_INBOX.${user}.abc.1`)).toEqual([user]);
      expect(who('subscribe', '_INBOX.abc.1')).toEqual([]);
      expect(who('publish', `_INBOX.${user}.abc.1`)).toEqual([]); // replies go through allow_responses
      expect(NATS_PERMISSIONS[user].allowResponses).toBe(true);
    }
  });

  it('limits JetStream to the EVENTS stream\'s info/create/update, each service\'s own durable consumers, and reads for the gateway', () => {
    expect(NATS_DURABLE_CONSUMERS.identity).toEqual([{ durable: RUN_ENDED_CONSUMER, filterSubject: CiEvents.runEnded.subject }]);
    expect(NATS_DURABLE_CONSUMERS.assets).toEqual([{ durable: REPO_DELETED_CONSUMER, filterSubject: IdentityEvents.repoDeleted.subject }]);
    for (const forbidden of ['$JS.API.STREAM.DELETE.EVENTS', '$JS.API.STREAM.PURGE.EVENTS', '$JS.API.STREAM.MSG.DELETE.EVENTS', '$JS.API.CONSUMER.CREATE.EVENTS.x.events.>', '$JS.API.STREAM.UPDATE.OTHER', '$JS.API.STREAM.MSG.GET.OTHER']) {
      expect({ forbidden, who: who('publish', forbidden) }).toEqual({ forbidden, who: [] });
    }
    expect(who('publish', `$JS.API.CONSUMER.CREATE.EVENTS.${RUN_ENDED_CONSUMER}.${CiEvents.runEnded.subject}`)).toEqual(['identity']);
    expect(who('publish', `$JS.API.CONSUMER.CREATE.EVENTS.${RUN_ENDED_CONSUMER}.events.>`)).toEqual([]);
    expect(who('publish', `$JS.ACK.EVENTS.${REPO_DELETED_CONSUMER}.1.2.3.4.5`)).toEqual(['assets']);
    expect(who('publish', '$JS.API.STREAM.CREATE.EVENTS').sort()).toEqual(['assets', 'ci-runner', 'identity']);
    // Retention follows the services' configuration (GANTRY_EVENTS_*).
    expect(who('publish', '$JS.API.STREAM.UPDATE.EVENTS').sort()).toEqual(['assets', 'ci-runner', 'identity']);
    // The audit query reads single messages; nobody else needs to.
    expect(who('publish', '$JS.API.STREAM.MSG.GET.EVENTS')).toEqual(['gateway']);
  });

  it('renders a nats-server authorization block, passwords literal or from the environment', () => {
    const block = natsAuthorizationBlock({ identity: { literal: 'pa"ss' }, gateway: { env: 'GANTRY_NATS_GATEWAY_PASSWORD' } });
    expect(block).toContain('user: "identity"\n      password: "pa\\"ss"');
    expect(block).toContain('user: "gateway"\n      password: $GANTRY_NATS_GATEWAY_PASSWORD\n');
    expect(block).not.toContain('"assets"');
    expect(block).not.toContain('"admin"');
    expect(block).toContain('"$JS.API.STREAM.INFO.EVENTS"');
  });
});
