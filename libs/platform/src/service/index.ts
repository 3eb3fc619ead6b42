export * from './bootstrap';
export * from './ping.controller';
export * from './service-config';
export * from './service-infra.module';
export * from './tokens';
export * from './shutdown';
