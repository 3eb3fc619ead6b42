/**
 * Who may publish and subscribe what on NATS: one user per service, each with allow-lists (README
 * "Security"). This table is the boundary; the launcher writes it into the config of the
 * nats-server it starts (with a full-rights `admin` user for tests and tools), and
 * deploy/nats.conf (docker compose) is rendered from it (`node dist/scripts/deploy-config.js`; a
 * test fails when the committed file is out of date). It imports nothing on purpose: the subjects
 * are spelled out here for review, and nats-permissions.spec.ts checks them against libs/contracts.
 *
 * Replies: a requester gets its replies on its own inbox prefix `_INBOX.<user>` (connect with
 * `inboxPrefix`, see natsConnectOptions), so no service can read another's replies (tokens travel
 * in replies); a responder may publish only to the reply subject of a request it received
 * (`allow_responses`, one reply each), never to an inbox of its choice.
 */

export const NATS_SERVICE_USERS = ['identity', 'assets', 'ci-runner', 'gateway'] as const;
export type NatsServiceUser = (typeof NATS_SERVICE_USERS)[number];
/** Full rights: the launcher's own servers only (tests, benchmarks, dev tools), never in compose. */
export const NATS_ADMIN_USER = 'admin';
export type NatsUser = NatsServiceUser | typeof NATS_ADMIN_USER;

export interface NatsPermissions {
  publish: readonly string[];
  subscribe: readonly string[];
  /** May answer the requests (and invalidation broadcasts) it receives: one reply per message. */
  allowResponses: boolean;
}

/** Where a user's replies arrive: `_INBOX.<user>.…`; its allow-list subscribes only there. */
export function natsInboxPrefix(user: string): string {
  return `_INBOX.${user}`;
}

const STREAM = 'EVENTS';

/** JetStream API of a service with an outbox relay: ensure the EVENTS stream (never update, purge or delete it). */
/** Services create EVENTS and bring its retention in line with their configuration (jetstream.ts). */
const EVENTS_STREAM_API = ['$JS.API.INFO', `$JS.API.STREAM.INFO.${STREAM}`, `$JS.API.STREAM.CREATE.${STREAM}`, `$JS.API.STREAM.UPDATE.${STREAM}`];
/** Reading EVENTS one message at a time, and its bounds: the gateway's audit query. */
const EVENTS_STREAM_READ_API = [`$JS.API.STREAM.INFO.${STREAM}`, `$JS.API.STREAM.MSG.GET.${STREAM}`];

/**
 * A durable pull consumer on EVENTS: create it only with its own filter (so it cannot be pointed
 * at other events), read its info, pull and acknowledge.
 */
function durableConsumer(durable: string, filterSubject: string): string[] {
  return [
    `$JS.API.CONSUMER.CREATE.${STREAM}.${durable}.${filterSubject}`,
    `$JS.API.CONSUMER.INFO.${STREAM}.${durable}`,
    `$JS.API.CONSUMER.MSG.NEXT.${STREAM}.${durable}`,
    `$JS.ACK.${STREAM}.${durable}.>`,
  ];
}

/** Durable consumer names are persisted (never rename); they match the apps' constants (spec). */
export const NATS_DURABLE_CONSUMERS = {
  identity: [{ durable: 'identity-ci-run-ended', filterSubject: 'events.ci.run.ended' }],
  assets: [{ durable: 'assets-repo-deleted', filterSubject: 'events.identity.repo.deleted' }],
} as const;

/** Every request the gateway makes on behalf of HTTP clients (all of identity's, assets' and ci's but the ci-runner's own). */
export const GATEWAY_REQUESTS = [
  'identity.health.ping.v1',
  'identity.auth.login.v1', 'identity.auth.logout.v1', 'identity.auth.jwks.v1', 'identity.auth.resolve.v1', 'identity.auth.touch.v1',
  'identity.user.list.v1', 'identity.user.create.v1', 'identity.user.get.v1', 'identity.user.update.v1', 'identity.user.delete.v1',
  'identity.user.set_password.v1', 'identity.user.change_password.v1',
  'identity.pat.create.v1', 'identity.pat.list.v1', 'identity.pat.get.v1', 'identity.pat.revoke.v1', 'identity.pat.rotate.v1',
  'identity.repo.access.v1', 'identity.repo.create.v1', 'identity.repo.list.v1', 'identity.repo.update.v1', 'identity.repo.delete.v1',
  'identity.repo.members.v1', 'identity.repo.put_member.v1', 'identity.repo.remove_member.v1',
  'identity.install_token.mint.v1', 'identity.install_token.list.v1', 'identity.install_token.cancel.v1', 'identity.install_token.exchange.v1',
  'identity.runner.list.v1', 'identity.runner.get.v1', 'identity.runner.revoke.v1', 'identity.runner.rotate.v1', 'identity.runner.heartbeat.v1',
  'identity.api_key.create.v1', 'identity.api_key.list.v1', 'identity.api_key.revoke.v1',
  'identity.credential.revoke_leaked.v1',
  'assets.health.ping.v1',
  'assets.upload.authorize.v1', 'assets.upload.complete.v1', 'assets.upload.abort.v1', 'assets.download.authorize.v1',
  'assets.asset.delete.v1', 'assets.asset.list.v1',
  'ci.health.ping.v1',
  'ci.job.put.v1', 'ci.job.get.v1', 'ci.job.list.v1', 'ci.job.delete.v1',
  'ci.run.trigger.v1', 'ci.run.get.v1', 'ci.run.list.v1', 'ci.run.log.v1', 'ci.run.cancel.v1',
  'ci.runner.claim.v1', 'ci.runner.log.v1', 'ci.runner.finish.v1', 'ci.runner.heartbeat.v1',
] as const;

/** Requests only another service makes (never the gateway): the ci-runner's. */
export const SERVICE_ONLY_REQUESTS = ['identity.ci_token.issue.v1'] as const;

export const NATS_PERMISSIONS: Record<NatsServiceUser, NatsPermissions> = {
  identity: {
    publish: [
      'events.identity.>',
      'gateway.auth.invalidate.v1',
      'identity.presence.heartbeat.v1',
      // The container health check asks the service it runs beside, with that service's user.
      'identity.health.ping.v1',
      ...EVENTS_STREAM_API,
      ...NATS_DURABLE_CONSUMERS.identity.flatMap((c) => durableConsumer(c.durable, c.filterSubject)),
    ],
    subscribe: ['identity.>', 'gateway.presence.heartbeat.v1', `${natsInboxPrefix('identity')}.>`],
    allowResponses: true,
  },
  assets: {
    publish: [
      'events.assets.>',
      'assets.health.ping.v1',
      ...EVENTS_STREAM_API,
      ...NATS_DURABLE_CONSUMERS.assets.flatMap((c) => durableConsumer(c.durable, c.filterSubject)),
    ],
    subscribe: ['assets.>', `${natsInboxPrefix('assets')}.>`],
    allowResponses: true,
  },
  'ci-runner': {
    publish: [
      'events.ci.>',
      'ci.runs.*.log', 'ci.runs.*.status', 'ci.runs.*.cancel', 'ci.run.remote_queued.v1',
      'ci.health.ping.v1',
      // A run's token, and the jobs file's repositories.
      'identity.ci_token.issue.v1', 'identity.repo.access.v1',
      ...EVENTS_STREAM_API,
    ],
    subscribe: ['ci.>', `${natsInboxPrefix('ci-runner')}.>`],
    allowResponses: true,
  },
  gateway: {
    // Requests, its heartbeat and its own security events (`events.gateway.>`, stored by the EVENTS
    // stream: the ack comes back on its inbox); never another service's events or broadcasts. Of
    // the JetStream API only the two read-only calls of the audit query (GET /api/v1/audit): the
    // stream's info and single-message gets — no consumers, no changes to the stream.
    publish: [...GATEWAY_REQUESTS, 'gateway.presence.heartbeat.v1', 'events.gateway.>', ...EVENTS_STREAM_READ_API],
    subscribe: [
      'gateway.auth.invalidate.v1', 'identity.presence.heartbeat.v1',
      'ci.runs.*.log', 'ci.runs.*.status', 'ci.run.remote_queued.v1',
      `${natsInboxPrefix('gateway')}.>`,
    ],
    // Acknowledges identity's invalidation broadcasts on their reply subject.
    allowResponses: true,
  },
};

const ADMIN_PERMISSIONS: NatsPermissions = { publish: ['>'], subscribe: ['>'], allowResponses: false };

/** A user's password in the config: a literal (the launcher), or an environment variable nats-server reads (compose). */
export type NatsPassword = { literal: string } | { env: string };

/**
 * The `authorization { users = [...] }` block of a nats-server config. Users not in `passwords`
 * are left out (compose has no admin).
 */
export function natsAuthorizationBlock(passwords: Partial<Record<NatsUser, NatsPassword>>): string {
  const users = ([...NATS_SERVICE_USERS, NATS_ADMIN_USER] as NatsUser[]).filter((user) => passwords[user]);
  const quote = (value: string) => JSON.stringify(value);
  const list = (subjects: readonly string[]) => `[\n${subjects.map((s) => `          ${quote(s)}`).join(',\n')}\n        ]`;
  const entries = users.map((user) => {
    const password = passwords[user]!;
    // `$NAME` unquoted: nats-server reads the environment variable (and refuses to start without it).
    const value = 'env' in password ? `$${password.env}` : quote(password.literal);
    const permissions = user === NATS_ADMIN_USER ? ADMIN_PERMISSIONS : NATS_PERMISSIONS[user];
    return [
      '    {',
      `      user: ${quote(user)}`,
      `      password: ${value}`,
      '      permissions: {',
      `        publish: { allow: ${list(permissions.publish)} }`,
      `        subscribe: { allow: ${list(permissions.subscribe)} }`,
      ...(permissions.allowResponses ? ['        allow_responses: true'] : []),
      '      }',
      '    }',
    ].join('\n');
  });
  return `authorization {\n  users = [\n${entries.join('\n')}\n  ]\n}\n`;
}
