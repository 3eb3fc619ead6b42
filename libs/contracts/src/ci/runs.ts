import { z } from 'zod';
import { ActorSchema } from '../envelope';
import { defineRequest } from '../kernel';
import { cursorString, pageOf } from '../pagination';
import { storableString } from '../strings';
import { RunsOnSchema } from './jobs';

export const RUN_END_STATUSES = ['succeeded', 'failed', 'cancelled', 'timed_out'] as const;
export const RunStatusSchema = z.enum(['queued', 'running', ...RUN_END_STATUSES]);
export type RunStatus = z.infer<typeof RunStatusSchema>;
export const RunEndStatusSchema = z.enum(RUN_END_STATUSES);
export type RunEndStatus = z.infer<typeof RunEndStatusSchema>;

/**
 * Why a run ended other than by its steps succeeding: `step_failed` (a step exited non-zero),
 * `cancelled`, `timed_out`, `runner_lost` (no heartbeat from its runner or worker),
 * `token_unavailable` (identity could not issue its token in time), `shutdown` (the ci-runner
 * stopped while the run was executing), `executor_error` (the step could not be started).
 */
export const RunReasonSchema = z.enum(['step_failed', 'cancelled', 'timed_out', 'runner_lost', 'token_unavailable', 'shutdown', 'executor_error']);
export type RunReason = z.infer<typeof RunReasonSchema>;

/** Who executes a run: a ci-runner worker (local executor) or a registered remote runner. */
export const RunnerRefSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('local'), worker: z.string() }),
  z.strictObject({ kind: z.literal('remote'), runnerId: z.uuid(), runnerName: z.string() }),
]);
export type RunnerRef = z.infer<typeof RunnerRefSchema>;

const at = z.iso.datetime({ offset: true });

export const RunSchema = z.strictObject({
  /** UUIDv7: URL-safe and time-ordered (lists page by it). */
  id: z.uuid(),
  repoId: z.uuid(),
  repo: z.string(),
  job: z.string(),
  /** Counts per job: 1, 2, 3 … */
  number: z.number().int().positive(),
  status: RunStatusSchema,
  params: z.record(z.string(), z.string()),
  runsOn: RunsOnSchema,
  timeoutSeconds: z.number().int(),
  createdAt: at,
  triggeredBy: ActorSchema,
  startedAt: at.nullable(),
  endedAt: at.nullable(),
  exitCode: z.number().int().nullable(),
  reason: RunReasonSchema.nullable(),
  runner: RunnerRefSchema.nullable(),
  cancelRequested: z.boolean(),
  /** Log lines stored so far. */
  logLines: z.number().int().min(0),
});
export type Run = z.infer<typeof RunSchema>;

/** Body of `POST …/jobs/{job}/runs`: values for the job's parameters. */
export const TriggerRunBodySchema = z.strictObject({
  params: z.record(storableString().max(64), storableString().max(4096)).optional(),
});

export const RunListQuerySchema = z.strictObject({
  status: RunStatusSchema.optional(),
  job: storableString().max(64).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(30),
  cursor: cursorString(200).optional(),
});

/** One line of a run's log; `seq` counts from 1 and is the SSE event id. */
export const LogLineSchema = z.strictObject({ seq: z.number().int().positive(), text: z.string() });
export type LogLine = z.infer<typeof LogLineSchema>;

const RunId = z.strictObject({ id: z.uuid() });

export const RunRequests = {
  trigger: defineRequest('ci.run.trigger.v1', {
    request: z.strictObject({ repoId: z.uuid(), repo: storableString().max(200), job: storableString().max(64), params: z.record(storableString(), storableString()) }),
    response: RunSchema,
  }),
  get: defineRequest('ci.run.get.v1', { request: RunId, response: RunSchema }),
  list: defineRequest('ci.run.list.v1', { request: RunListQuerySchema.extend({ repoId: z.uuid() }), response: pageOf(RunSchema) }),
  /** Stored log lines after `afterSeq`, at most `limit` lines and about 512 KiB. */
  log: defineRequest('ci.run.log.v1', {
    request: z.strictObject({ id: z.uuid(), afterSeq: z.number().int().min(0), limit: z.number().int().min(1).max(5000).default(1000) }),
    response: z.strictObject({ lines: z.array(LogLineSchema), status: RunStatusSchema, logLines: z.number().int() }),
  }),
  /** Queued: ends it at once; running: asks its executor to stop; ended: 409 run_finished. */
  cancel: defineRequest('ci.run.cancel.v1', { request: RunId, response: RunSchema }),
} as const;
