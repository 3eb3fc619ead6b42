import { z } from 'zod';
import { defineRequest } from '../kernel';
import { PingResponseSchema } from '../health';

export const CiRequests = {
  ping: defineRequest('ci.health.ping.v1', {
    request: z.strictObject({}),
    response: PingResponseSchema,
  }),
} as const;
