export * from './event-store';
export * from './event-store.types';
export * from './event-store.ddl';
export * from './outbox-relay';
export * from './consumed-events';
export * from './replay-command';
export * from './event-chain';
export * from './chain-audit';
