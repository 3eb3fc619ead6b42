import { z } from 'zod';
import { defineRequest } from '../kernel';

/** What a CI job token may do, on its own repository only. */
export const CI_TOKEN_SCOPES = ['repo:read', 'assets:write'] as const;

export const CiTokenRequests = {
  /**
   * The ci-runner asks for a run's `gtc_` token just before the run starts. The raw token goes to
   * the run's executor only; the event records its id and expiry. A run that already ended → 409
   * run_finished.
   */
  issue: defineRequest('identity.ci_token.issue.v1', {
    request: z.strictObject({ runId: z.uuid(), repoId: z.uuid(), expiresAt: z.iso.datetime({ offset: true }) }),
    response: z.strictObject({ token: z.string(), tokenId: z.uuid(), expiresAt: z.iso.datetime({ offset: true }) }),
  }),
} as const;
