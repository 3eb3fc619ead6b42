export * from './idempotency';
export * from './idempotency.ddl';
