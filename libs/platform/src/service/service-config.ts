import { z } from 'zod';
import { CommonConfigSchema, DatabaseConfigSchema } from '../config/load-config';

/** What every event-sourced backend service reads from its environment. */
export const ServiceConfigSchema = CommonConfigSchema.extend(DatabaseConfigSchema.shape);
export type ServiceConfig = z.infer<typeof ServiceConfigSchema>;
