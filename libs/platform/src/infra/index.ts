export * from './free-port';
export * from './nats';
export * from './nats-permissions';
export * from './postgres';
export * from './postgres-roles';
export * from './s3';
export * from './service-credentials';
export * from './stack';
