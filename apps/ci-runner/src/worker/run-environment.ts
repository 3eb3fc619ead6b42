import type { Run } from '#contracts';
import type { RunRow } from '../runs/run-rows';

/**
 * A step's environment besides PATH and HOME: the job's env, its parameters as
 * GANTRY_PARAM_<NAME>, and the run's own GANTRY_* variables. Nothing of the ci-runner's environment.
 */
export function runEnvironment(run: Run, spec: RunRow['spec'], token: string, gatewayUrl: string): Record<string, string> {
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
