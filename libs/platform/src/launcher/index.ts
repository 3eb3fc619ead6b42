export * from './services';
export * from './service-env';
