export * from './stream-reader';
export * from './test-infra';
export * from './wait-for';
