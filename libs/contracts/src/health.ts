import { z } from 'zod';

/** Every service answers a ping over NATS after checking its own dependencies. */
export const PingResponseSchema = z.strictObject({
  service: z.string(),
  status: z.enum(['ok', 'degraded']),
  checks: z.record(z.string(), z.enum(['up', 'down'])),
});
export type PingResponse = z.infer<typeof PingResponseSchema>;
