import { z } from 'zod';
import { defineRequest } from '../kernel';
import { PingResponseSchema } from '../health';
import { JobRequests } from './jobs';
import { RunnerApiRequests } from './runner-api';
import { RunRequests } from './runs';

/** Every request the ci-runner serves, by capability. */
export const CiRequests = {
  ping: defineRequest('ci.health.ping.v1', {
    request: z.strictObject({}),
    response: PingResponseSchema,
  }),
  jobs: JobRequests,
  runs: RunRequests,
  runner: RunnerApiRequests,
} as const;
