export * from './services';
export * from './service-env';
export * from './supervisor';
export * from './stack-file';
