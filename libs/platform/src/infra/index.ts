export * from './free-port';
export * from './nats';
export * from './postgres';
export * from './s3';
export * from './stack';
