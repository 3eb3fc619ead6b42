import { z } from 'zod';
import { defineSignal } from '../kernel';
import { LogLineSchema, RunSchema } from './runs';

/**
 * Core-NATS subjects of one run, published by the ci-runner after the data is committed (so a
 * reader that subscribes first and then reads the stored log misses nothing):
 * - `ci.runs.<runId>.log`: batches of new log lines, in order;
 * - `ci.runs.<runId>.status`: the run after each status change;
 * - `ci.runs.<runId>.cancel`: tells the worker executing it to stop.
 * Subject names are part of the wire protocol: never rename.
 */
export const RunLive = {
  log: { subject: (runId: string) => `ci.runs.${runId}.log`, schema: z.strictObject({ lines: z.array(LogLineSchema) }) },
  status: { subject: (runId: string) => `ci.runs.${runId}.status`, schema: RunSchema },
  cancel: { subject: (runId: string) => `ci.runs.${runId}.cancel`, schema: z.strictObject({}) },
} as const;

export const CiSignals = {
  /** A run for remote runners was queued: gateways wake their long-polling claims. */
  remoteRunQueued: defineSignal('ci.run.remote_queued.v1', z.strictObject({ runId: z.uuid(), labels: z.array(z.string()) })),
} as const;
