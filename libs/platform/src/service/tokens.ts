/** Injection tokens for the shared infrastructure (classes are used where a class exists). */
export const NATS_CONNECTION = Symbol('NATS_CONNECTION');
export const LOGGER = Symbol('LOGGER');
export const SERVICE_CONFIG = Symbol('SERVICE_CONFIG');
export const PROJECTIONS = Symbol('PROJECTIONS');
