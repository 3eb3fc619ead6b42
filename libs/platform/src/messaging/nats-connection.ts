import { connect, createInbox, type NatsConnection } from '@nats-io/transport-node';
import { ConfigError, type CommonConfig } from '../config/load-config';
import { natsInboxPrefix } from '../infra/nats-permissions';

/** `connect()` options that authenticate: the user, its password and its own reply inbox prefix. */
export interface NatsAuth {
  user?: string;
  pass?: string;
  inboxPrefix?: string;
}

/**
 * The configured NATS user as `connect()` options (the Nest transport takes the same): replies to
 * its requests arrive on `_INBOX.<user>.…`, the only inbox its permissions let it read. Without
 * GANTRY_NATS_USER it connects anonymously (a server without authorization).
 */
export function natsAuth(config: Pick<CommonConfig, 'GANTRY_NATS_USER' | 'GANTRY_NATS_PASSWORD'>): NatsAuth {
  const { GANTRY_NATS_USER: user, GANTRY_NATS_PASSWORD: pass } = config;
  if (!user && !pass) return {};
  if (!user) throw new ConfigError(['GANTRY_NATS_USER: required when GANTRY_NATS_PASSWORD is set']);
  if (!pass) throw new ConfigError(['GANTRY_NATS_PASSWORD: required when GANTRY_NATS_USER is set']);
  return { user, pass, inboxPrefix: natsInboxPrefix(user) };
}

export interface NatsConnectOptions {
  url: string;
  /** Shows in the server's connz: service name and process id. */
  name: string;
  /** The service's user (natsAuth); none: anonymous. */
  auth?: NatsAuth;
}

const inboxPrefixes = new WeakMap<NatsConnection, string>();

/**
 * Connects with unlimited reconnects: a service outlives NATS restarts. `onReconnect` runs each
 * time the connection comes back (the gateway flushes its auth cache then). Refused credentials
 * end the attempts with an authorization error instead of retrying for ever.
 */
export async function connectNats(options: NatsConnectOptions, onReconnect?: () => void): Promise<NatsConnection> {
  const nc = await connect({
    servers: options.url,
    name: options.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    waitOnFirstConnect: true,
    ...options.auth,
  });
  if (options.auth?.inboxPrefix) inboxPrefixes.set(nc, options.auth.inboxPrefix);
  if (onReconnect) void watchReconnects(nc, onReconnect);
  return nc;
}

/** A fresh inbox subject under the connection's own prefix (the one its user may subscribe to). */
export function natsInbox(nc: NatsConnection): string {
  return createInbox(inboxPrefixes.get(nc));
}

async function watchReconnects(nc: NatsConnection, onReconnect: () => void): Promise<void> {
  for await (const status of nc.status()) {
    if (status.type === 'reconnect') onReconnect();
  }
}
