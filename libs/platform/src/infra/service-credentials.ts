import type { NatsCredentials, NatsHandle } from './nats';
import type { NatsServiceUser } from './nats-permissions';
import type { DatabaseService, ServiceRole } from './postgres-roles';

/**
 * What a launcher hands each service besides the shared coordinates: its own NATS user and, for
 * the backend services, its own database URL (its role). See launcher/service-env.ts.
 */
export interface ServiceCredentials {
  nats: Record<NatsServiceUser, NatsCredentials>;
  databaseUrls: Record<DatabaseService, string>;
}

export function serviceCredentials(nats: Pick<NatsHandle, 'users'>, roles: Record<DatabaseService, ServiceRole>): ServiceCredentials {
  return {
    nats: { identity: nats.users.identity, assets: nats.users.assets, 'ci-runner': nats.users['ci-runner'], gateway: nats.users.gateway },
    databaseUrls: { identity: roles.identity.url, assets: roles.assets.url, 'ci-runner': roles['ci-runner'].url },
  };
}
