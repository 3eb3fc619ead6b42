import { connect, type NatsConnection } from '@nats-io/transport-node';

export interface NatsConnectOptions {
  url: string;
  /** Shows in the server's connz: service name and process id. */
  name: string;
}

/**
 * Connects with unlimited reconnects: a service outlives NATS restarts. `onReconnect` runs each
 * time the connection comes back (the gateway flushes its auth cache then).
 */
export async function connectNats(options: NatsConnectOptions, onReconnect?: () => void): Promise<NatsConnection> {
  const nc = await connect({
    servers: options.url,
    name: options.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    waitOnFirstConnect: true,
  });
  if (onReconnect) void watchReconnects(nc, onReconnect);
  return nc;
}

async function watchReconnects(nc: NatsConnection, onReconnect: () => void): Promise<void> {
  for await (const status of nc.status()) {
    if (status.type === 'reconnect') onReconnect();
  }
}
