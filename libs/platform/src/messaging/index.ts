export * from './jetstream';
export * from './nats-connection';
export * from './request-context';
export * from './rpc-client';
export * from './rpc-handler';
export * from './durable-consumer';
export * from './connection-state';
export * from './deadline';
