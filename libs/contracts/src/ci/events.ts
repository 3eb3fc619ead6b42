import { z } from 'zod';
import { defineEvent } from '../kernel';
import { JobSpecSchema } from './jobs';
import { RunEndStatusSchema, RunnerRefSchema, RunReasonSchema } from './runs';

/**
 * The ci-runner's events. No token, token hash or secret in any of them: a run's token goes from
 * identity to its executor only.
 */
export const CiEvents = {
  jobPut: defineEvent('ci.job.put', 1, z.strictObject({ repoId: z.string(), repo: z.string(), name: z.string(), spec: JobSpecSchema, created: z.boolean() })),
  jobDeleted: defineEvent('ci.job.deleted', 1, z.strictObject({ repoId: z.string(), repo: z.string(), name: z.string() })),
  /** The job's definition is copied into the run: editing the job later does not change it. */
  runQueued: defineEvent('ci.run.queued', 1, z.strictObject({
    runId: z.string(), repoId: z.string(), repo: z.string(), job: z.string(), number: z.number().int(),
    params: z.record(z.string(), z.string()), spec: JobSpecSchema.required({ timeoutSeconds: true, runsOn: true }),
  })),
  runStarted: defineEvent('ci.run.started', 1, z.strictObject({ runId: z.string(), repoId: z.string(), runner: RunnerRefSchema })),
  runCancelRequested: defineEvent('ci.run.cancel_requested', 1, z.strictObject({ runId: z.string(), repoId: z.string() })),
  runEnded: defineEvent('ci.run.ended', 1, z.strictObject({
    runId: z.string(), repoId: z.string(), status: RunEndStatusSchema, exitCode: z.number().int().nullable(),
    reason: RunReasonSchema.nullable(), durationMs: z.number().int().min(0),
  })),
} as const;

