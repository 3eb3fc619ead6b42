import type { Run } from '#contracts';

/** What a step's environment is made of: the run's identity and parameters, and the job's env. */
export type RunIdentity = Pick<Run, 'id' | 'repo' | 'job' | 'number' | 'params'>;

/**
 * A step's environment besides PATH and HOME: the job's env, its parameters as
 * GANTRY_PARAM_<NAME>, and the run's own GANTRY_* variables. Nothing of the ci-runner's environment.
 * Shared with the `gantry` CLI (remote runner agent, `runs exec --local`), so a step sees the same
 * variables wherever it runs.
 */
export function runEnvironment(run: RunIdentity, spec: { env?: Readonly<Record<string, string>> }, token: string, gatewayUrl: string): Record<string, string> {
  const params = Object.fromEntries(Object.entries(run.params).map(([name, value]) => [`GANTRY_PARAM_${name.toUpperCase()}`, value]));
  return {
    ...spec.env,
    ...params,
    GANTRY_TOKEN: token,
    GANTRY_URL: gatewayUrl.replace(/\/$/, ''),
    GANTRY_REPO: run.repo,
    GANTRY_RUN_ID: run.id,
    GANTRY_RUN_NUMBER: String(run.number),
    GANTRY_JOB: run.job,
  };
}
