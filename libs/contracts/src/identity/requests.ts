import { CiTokenRequests } from './ci-tokens';
import { ApiKeyRequests, LeakedCredentialsRequests } from './api-keys';
import { RepoRequests } from './repos';
import { RunnerRequests } from './runners';
import { SessionRequests } from './sessions';
import { PatRequests } from './tokens';
import { UserRequests } from './users';

/** Every request identity serves, by capability. */
export const IdentityRequests = {
  ...SessionRequests,
  users: UserRequests,
  pats: PatRequests,
  repos: RepoRequests,
  runners: RunnerRequests,
  apiKeys: ApiKeyRequests,
  leaked: LeakedCredentialsRequests,
  ciTokens: CiTokenRequests,
} as const;
