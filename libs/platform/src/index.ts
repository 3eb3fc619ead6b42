export * from './config/load-config';
export * from './logging/logger';
export * from './db/database';
export * from './db/migrations';
export * from './db/pg-listener';
export * from './event-store';
export * from './messaging';
export * from './service';
