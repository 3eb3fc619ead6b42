import { RepoRequests } from './repos';
import { SessionRequests } from './sessions';
import { PatRequests } from './tokens';
import { UserRequests } from './users';

/** Every request identity serves, by capability. */
export const IdentityRequests = {
  ...SessionRequests,
  users: UserRequests,
  pats: PatRequests,
  repos: RepoRequests,
} as const;
