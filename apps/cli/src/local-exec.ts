import { randomUUID } from 'node:crypto';
import { JobSchema, type JobSpec } from '#contracts';
import { LocalExecutor } from '../../ci-runner/src/executor/local-executor';
import { runEnvironment } from '../../ci-runner/src/worker/run-environment';
import { repoPath } from './client';
import { readJobFile } from './commands/ci';
import type { CliContext } from './context';
import { CliError, EXIT } from './errors';
import { exitCodeOfRun } from './run-follow';

/**
 * `gantry runs exec <repo> <job> --local`: the job's steps on this machine with the ci-runner's own
 * executor (clean environment, process groups, SIGTERM → grace → SIGKILL, masking), the caller's
 * token as GANTRY_TOKEN. Nothing is recorded on the server. Resolves with the run's exit code.
 */
export async function execLocal(
  context: CliContext,
  fullName: string,
  job: string,
  options: { file?: string; param: Record<string, string>; killGrace: string },
): Promise<number> {
  const client = context.client();
  const token = client.target.token;
  if (!token) throw new CliError('not logged in: run `gantry login` (or set GANTRY_TOKEN); the steps get your token as GANTRY_TOKEN', EXIT.auth);
  repoPath(fullName); // owner/repo, or a usage error
  const spec: JobSpec = options.file ? await readJobFile(options.file) : await client.json('GET', `${repoPath(fullName)}/jobs/${encodeURIComponent(job)}`, JobSchema);
  const params = resolveParams(spec, options.param);
  const runId = `local-${randomUUID()}`;
  const env = runEnvironment({ id: runId, repo: fullName, job, number: 0, params }, spec, token, client.url);
  const executor = new LocalExecutor({ killGraceMs: Number(options.killGrace) });
  const execution = executor.start(
    { runId, steps: spec.steps, env, timeoutMs: (spec.timeoutSeconds ?? 3600) * 1000, secrets: [token] },
    { line: (text) => context.io.stdout.write(`${text}\n`) },
  );
  const stop = () => execution.cancel('cancelled');
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const outcome = await execution.outcome;
    context.note(`[local run ${outcome.status}${outcome.reason ? `: ${outcome.reason}` : ''}${outcome.exitCode !== null ? `, exit code ${outcome.exitCode}` : ''}]`);
    return exitCodeOfRun(outcome);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

/** The server's parameter rules: unknown → error, required and missing → error, defaults filled in. */
export function resolveParams(spec: Pick<JobSpec, 'params'>, given: Record<string, string>): Record<string, string> {
  const declared = spec.params ?? [];
  for (const name of Object.keys(given)) {
    if (!declared.some((param) => param.name === name)) throw new CliError(`unknown parameter "${name}"`, EXIT.usage);
  }
  const params: Record<string, string> = {};
  for (const param of declared) {
    const value = given[param.name] ?? param.default;
    if (value === undefined) {
      if (param.required) throw new CliError(`missing parameter "${param.name}" (-p ${param.name}=…)`, EXIT.usage);
      continue;
    }
    params[param.name] = value;
  }
  return params;
}
