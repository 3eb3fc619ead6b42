import { z } from 'zod';
import { CommonConfigSchema, DatabaseConfigSchema } from '../config/load-config';
import { EventsStreamConfigSchema } from '../messaging/jetstream';

/** What every event-sourced backend service reads from its environment. */
export const ServiceConfigSchema = CommonConfigSchema.extend(DatabaseConfigSchema.shape).extend(EventsStreamConfigSchema.shape);
export type ServiceConfig = z.infer<typeof ServiceConfigSchema>;
