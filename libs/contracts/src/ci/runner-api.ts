import { z } from 'zod';
import { defineRequest } from '../kernel';
import { LabelsSchema, RunnerSchema } from '../identity/runners';
import { storableString } from '../strings';
import { StepSchema } from './jobs';
import { RunEndStatusSchema, RunSchema, RunStatusSchema } from './runs';

/** `POST /api/v1/runner/runs/claim`: labels to match (default: all of the runner's). */
export const ClaimBodySchema = z.strictObject({ labels: LabelsSchema.optional() });

/** What a runner gets with a claimed run: everything to execute it, and the run's `gtc_` token. */
export const ClaimedRunSchema = z.strictObject({
  id: z.uuid(),
  repo: z.string(),
  job: z.string(),
  number: z.number().int(),
  steps: z.array(StepSchema),
  env: z.record(z.string(), z.string()),
  params: z.record(z.string(), z.string()),
  timeoutSeconds: z.number().int(),
  token: z.string(),
});
export type ClaimedRun = z.infer<typeof ClaimedRunSchema>;

/** `POST /api/v1/runner/runs/{id}/log`: lines in order; a line already stored (by seq) is skipped. */
export const RunnerLogBodySchema = z.strictObject({
  lines: z.array(z.strictObject({ seq: z.number().int().positive(), text: storableString().max(65536) })).min(1).max(1000),
});

export const RunnerFinishBodySchema = z.strictObject({ status: RunEndStatusSchema, exitCode: z.number().int().min(-1).max(255).nullable() });

/** Answer to a log call or heartbeat: whether the runner should stop the run. */
export const RunControlSchema = z.strictObject({
  id: z.uuid(),
  status: RunStatusSchema,
  cancelRequested: z.boolean(),
  /** Log lines stored: the runner resends from here after a failure. */
  logLines: z.number().int(),
});

/** `POST /api/v1/runner/heartbeat`: the runner, and what it must know about its running runs. */
export const RunnerHeartbeatSchema = RunnerSchema.extend({ runs: z.array(RunControlSchema) });

const Runner = { runnerId: z.uuid() };

export const RunnerApiRequests = {
  /** One attempt (no waiting): the gateway long-polls, woken by `CiSignals.remoteRunQueued`. */
  claim: defineRequest('ci.runner.claim.v1', {
    request: z.strictObject({ ...Runner, runnerName: storableString(), labels: z.array(storableString()).max(32) }),
    response: z.strictObject({ run: ClaimedRunSchema.nullable() }),
  }),
  log: defineRequest('ci.runner.log.v1', {
    request: RunnerLogBodySchema.extend({ ...Runner, runId: z.uuid() }),
    response: RunControlSchema,
  }),
  finish: defineRequest('ci.runner.finish.v1', { request: RunnerFinishBodySchema.extend({ ...Runner, runId: z.uuid() }), response: RunSchema }),
  /** Keeps the runner's running runs alive; tells it which were cancelled. */
  heartbeat: defineRequest('ci.runner.heartbeat.v1', {
    request: z.strictObject(Runner),
    response: z.strictObject({ runs: z.array(RunControlSchema) }),
  }),
} as const;

