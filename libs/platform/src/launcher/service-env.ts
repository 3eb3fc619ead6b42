import type { ServiceCredentials } from '../infra/service-credentials';
import type { ServiceName } from './services';

/** Where the infrastructure is: what every launcher (dev, tests, bench) hands the services. */
export interface InfraCoordinates {
  natsUrl: string;
  databaseUrl: string;
  s3: { endpoint: string; accessKey: string; secretKey: string; bucket: string };
  admin: { username: string; password: string };
}

/**
 * The environment of the four services for the given infrastructure (GANTRY_* names are fixed):
 * `base` first (the caller's own environment, or just PATH), then the coordinates, then `extra`.
 */
export function serviceEnv(coordinates: InfraCoordinates, extra: NodeJS.ProcessEnv = {}, base: NodeJS.ProcessEnv = { PATH: process.env.PATH }): NodeJS.ProcessEnv {
  return {
    ...base,
    GANTRY_NATS_URL: coordinates.natsUrl,
    GANTRY_DATABASE_URL: coordinates.databaseUrl,
    GANTRY_S3_ENDPOINT: coordinates.s3.endpoint,
    GANTRY_S3_ACCESS_KEY: coordinates.s3.accessKey,
    GANTRY_S3_SECRET_KEY: coordinates.s3.secretKey,
    GANTRY_S3_BUCKET: coordinates.s3.bucket,
    GANTRY_ADMIN_USERNAME: coordinates.admin.username,
    GANTRY_ADMIN_PASSWORD: coordinates.admin.password,
    ...extra,
  };
}

/**
 * One service's own credentials on top of the shared environment: its NATS user and password and,
 * for a backend service, the database URL of its role. The gateway gets no database URL at all.
 */
export function withCredentials(env: NodeJS.ProcessEnv, service: ServiceName, credentials: ServiceCredentials): NodeJS.ProcessEnv {
  const own: NodeJS.ProcessEnv = { ...env, GANTRY_NATS_USER: credentials.nats[service].user, GANTRY_NATS_PASSWORD: credentials.nats[service].pass };
  if (service === 'gateway') delete own.GANTRY_DATABASE_URL;
  else own.GANTRY_DATABASE_URL = credentials.databaseUrls[service];
  return own;
}
