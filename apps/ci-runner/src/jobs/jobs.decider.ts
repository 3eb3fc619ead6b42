import { CiEvents, GantryError, type JobSpec } from '#contracts';
import type { NewEvent } from '#platform';

export const jobStream = (repoId: string, name: string) => `job-${repoId}-${name}`;
const subject = (repoId: string, name: string) => ({ kind: 'job', id: `${repoId}/${name}` });

export interface PutJob {
  repoId: string;
  repo: string;
  name: string;
  spec: JobSpec;
  /** Whether the job exists now. */
  exists: boolean;
  maxTimeoutSeconds: number;
}

/** Creates or replaces a job; a timeout above the installation's maximum is refused. */
export function decidePutJob(command: PutJob): NewEvent[] {
  const { repoId, repo, name, spec, exists } = command;
  if ((spec.timeoutSeconds ?? 0) > command.maxTimeoutSeconds) {
    throw new GantryError('invalid_request', `timeoutSeconds: at most ${command.maxTimeoutSeconds}`, 'timeoutSeconds');
  }
  return [{ contract: CiEvents.jobPut, data: { repoId, repo, name, spec, created: !exists }, subject: subject(repoId, name) }];
}

export function decideDeleteJob(command: { repoId: string; repo: string; name: string; exists: boolean }): NewEvent[] {
  if (!command.exists) throw new GantryError('not_found', `no job ${command.name}`);
  const { repoId, repo, name } = command;
  return [{ contract: CiEvents.jobDeleted, data: { repoId, repo, name }, subject: subject(repoId, name) }];
}
