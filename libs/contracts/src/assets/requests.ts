import { z } from 'zod';
import { defineRequest } from '../kernel';
import { PingResponseSchema } from '../health';

export const AssetsRequests = {
  ping: defineRequest('assets.health.ping.v1', {
    request: z.strictObject({}),
    response: PingResponseSchema,
  }),
} as const;
