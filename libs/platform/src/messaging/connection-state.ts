import type { NatsConnection } from '@nats-io/transport-node';

interface State {
  connected: boolean;
}

const states = new WeakMap<NatsConnection, State>();

/**
 * Whether a NATS connection is connected right now. `isClosed()` stays false while the client is
 * reconnecting, and a request sent meanwhile waits out its whole timeout; this follows the
 * connection's disconnect/reconnect status instead (one watcher per connection, however many ask).
 */
export function isConnected(nc: NatsConnection): boolean {
  if (nc.isClosed()) return false;
  let state = states.get(nc);
  if (!state) {
    const watched: State = { connected: true };
    states.set(nc, watched);
    void watch(nc, watched);
    state = watched;
  }
  return state.connected;
}

async function watch(nc: NatsConnection, state: State): Promise<void> {
  for await (const status of nc.status()) {
    if (status.type === 'disconnect') state.connected = false;
    else if (status.type === 'reconnect') state.connected = true;
  }
}
