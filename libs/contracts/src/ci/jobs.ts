import { z } from 'zod';
import { defineRequest } from '../kernel';
import { LabelsSchema } from '../identity/runners';
import { storableString } from '../strings';

/** Job names: lowercase, as in a URL path segment. */
export const JobNameSchema = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'a-z, 0-9, _ and -, starting with a letter or digit, at most 64');
/** Parameter names become GANTRY_PARAM_<NAME> (upper-cased) in a step's environment. */
export const ParamNameSchema = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'letters, digits and _, not starting with a digit, at most 64');
/** The job's own environment variables; GANTRY_* names are the runner's. */
export const EnvNameSchema = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'letters, digits and _, not starting with a digit')
  .refine((name) => !name.toUpperCase().startsWith('GANTRY_'), 'GANTRY_ names are reserved');

export const StepSchema = z.strictObject({
  name: storableString().min(1).max(100).optional(),
  /** One `/bin/sh -c` script. */
  run: storableString().min(1).max(65536),
});
export type Step = z.infer<typeof StepSchema>;

/** Where a job runs: the ci-runner's local executor, or a remote runner having every label. */
export const RunsOnSchema = z.union([z.literal('local'), z.strictObject({ labels: LabelsSchema.min(1) })]);
export type RunsOn = z.infer<typeof RunsOnSchema>;

export const ParamSpecSchema = z.strictObject({
  name: ParamNameSchema,
  required: z.boolean().optional(),
  default: storableString().max(4096).optional(),
  description: storableString().max(500).optional(),
});
export type ParamSpec = z.infer<typeof ParamSpecSchema>;

/** Body of `PUT …/jobs/{job}`; also one job of the GANTRY_JOBS_FILE. */
export const JobSpecSchema = z.strictObject({
  steps: z.array(StepSchema).min(1).max(100),
  env: z
    .record(EnvNameSchema, storableString().max(16384))
    .refine((env) => Object.keys(env).length <= 100, 'at most 100 variables')
    .optional(),
  /** Default 3600; the installation's maximum is GANTRY_CI_MAX_TIMEOUT_SECONDS. */
  timeoutSeconds: z.number().int().min(1).optional(),
  runsOn: RunsOnSchema.optional(),
  params: z
    .array(ParamSpecSchema)
    .max(50)
    .refine((params) => new Set(params.map((p) => p.name.toUpperCase())).size === params.length, 'duplicate parameter name (names are case-insensitive)')
    .optional(),
});
export type JobSpec = z.infer<typeof JobSpecSchema>;

const at = z.iso.datetime({ offset: true });

export const JobSchema = z.strictObject({
  repoId: z.uuid(),
  /** `owner/name` */
  repo: z.string(),
  name: z.string(),
  steps: z.array(StepSchema),
  env: z.record(z.string(), z.string()),
  timeoutSeconds: z.number().int(),
  runsOn: RunsOnSchema,
  params: z.array(ParamSpecSchema),
  createdAt: at,
  updatedAt: at,
});
export type Job = z.infer<typeof JobSchema>;

const RepoRef = { repoId: z.uuid(), repo: storableString().max(200) };

export const JobRequests = {
  /** Creates or replaces; `created` tells which (201 / 200 at the gateway). */
  put: defineRequest('ci.job.put.v1', {
    request: z.strictObject({ ...RepoRef, name: JobNameSchema, spec: JobSpecSchema }),
    response: z.strictObject({ job: JobSchema, created: z.boolean() }),
  }),
  get: defineRequest('ci.job.get.v1', { request: z.strictObject({ repoId: z.uuid(), name: storableString().max(64) }), response: JobSchema }),
  /** The jobs of these repositories (one for a repository's list; every visible one for `GET /api/v1/jobs`). */
  list: defineRequest('ci.job.list.v1', {
    request: z.strictObject({ repoIds: z.array(z.uuid()).max(10000) }),
    response: z.strictObject({ items: z.array(JobSchema) }),
  }),
  delete: defineRequest('ci.job.delete.v1', { request: z.strictObject({ repoId: z.uuid(), name: storableString().max(64) }), response: z.strictObject({}) }),
} as const;
