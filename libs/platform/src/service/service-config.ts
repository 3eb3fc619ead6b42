import { z } from 'zod';
import { CommonConfigSchema, DatabaseConfigSchema } from '../config/load-config';
import { EventsStreamConfigSchema } from '../messaging/jetstream';
import { MetricsConfigSchema } from '../metrics/metrics-server';

/** What every event-sourced backend service reads from its environment. */
export const ServiceConfigSchema = CommonConfigSchema.extend(DatabaseConfigSchema.shape).extend(EventsStreamConfigSchema.shape).extend(MetricsConfigSchema.shape);
export type ServiceConfig = z.infer<typeof ServiceConfigSchema>;
