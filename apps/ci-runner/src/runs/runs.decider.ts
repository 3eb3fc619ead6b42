import { CiEvents, GantryError, type EventDataOf, type JobSpec, type RunEndStatus, type RunnerRef, type RunReason, type RunStatus } from '#contracts';
import type { NewEvent, StoredEvent } from '#platform';

/** A run as its events make it: enough to decide every command on it. */
export interface RunState {
  version: number;
  runId: string | null;
  repoId: string | null;
  status: RunStatus | null;
  cancelRequested: boolean;
  createdAt: string | null;
  startedAt: string | null;
}

export const initialRunState: RunState = { version: 0, runId: null, repoId: null, status: null, cancelRequested: false, createdAt: null, startedAt: null };

export const runStream = (runId: string) => `run-${runId}`;
const subject = (runId: string) => ({ kind: 'run', id: runId });
type QueuedSpec = EventDataOf<typeof CiEvents.runQueued>['spec'];

export interface QueueRun {
  runId: string;
  repoId: string;
  repo: string;
  job: string;
  number: number;
  spec: QueuedSpec;
  /** Parameter values as the caller sent them. */
  params: Record<string, string>;
}

/** The job's spec as a run copies it: defaults made explicit. */
export function runSpecOf(spec: JobSpec): QueuedSpec {
  return { ...spec, timeoutSeconds: spec.timeoutSeconds ?? 3600, runsOn: spec.runsOn ?? 'local' };
}

/** Checks the parameters against the job's (unknown → unknown_param, missing → missing_param), fills defaults. */
export function resolveParams(spec: JobSpec, given: Record<string, string>): Record<string, string> {
  const declared = new Map((spec.params ?? []).map((param) => [param.name, param]));
  const unknown = Object.keys(given).find((name) => !declared.has(name));
  if (unknown !== undefined) throw new GantryError('unknown_param', `params.${unknown}: the job has no such parameter`, `params.${unknown}`);
  const resolved: Record<string, string> = {};
  for (const param of declared.values()) {
    const value = given[param.name] ?? param.default;
    if (value !== undefined) resolved[param.name] = value;
    else if (param.required) throw new GantryError('missing_param', `params.${param.name}: required`, `params.${param.name}`);
  }
  return resolved;
}

export function decideQueue(command: QueueRun): NewEvent[] {
  const params = resolveParams(command.spec, command.params);
  const { runId, repoId, repo, job, number, spec } = command;
  return [{ contract: CiEvents.runQueued, data: { runId, repoId, repo, job, number, params, spec }, subject: subject(runId) }];
}

export function decideStart(state: RunState, runner: RunnerRef): NewEvent[] {
  if (state.status !== 'queued') throw new GantryError('conflict', `run is ${state.status ?? 'unknown'}, not queued`);
  return [{ contract: CiEvents.runStarted, data: { runId: state.runId!, repoId: state.repoId!, runner }, subject: subject(state.runId!) }];
}

/** Queued: ends it now. Running: asks its executor to stop (once). Ended: 409 run_finished. */
export function decideCancel(state: RunState, now: Date): NewEvent[] {
  if (state.status === null) throw new GantryError('not_found', 'no such run');
  if (state.status === 'queued') return decideEnd(state, { status: 'cancelled', exitCode: null, reason: 'cancelled' }, now);
  if (state.status !== 'running') throw new GantryError('run_finished', `the run has already ended (${state.status})`);
  if (state.cancelRequested) return [];
  return [{ contract: CiEvents.runCancelRequested, data: { runId: state.runId!, repoId: state.repoId! }, subject: subject(state.runId!) }];
}

export interface RunOutcome {
  status: RunEndStatus;
  exitCode: number | null;
  reason: RunReason | null;
}

/** Ends a run that has not ended yet; ending it twice changes nothing (the first outcome stands). */
export function decideEnd(state: RunState, outcome: RunOutcome, now: Date): NewEvent[] {
  if (state.status === null) throw new GantryError('not_found', 'no such run');
  if (state.status !== 'queued' && state.status !== 'running') return [];
  const since = Date.parse(state.startedAt ?? state.createdAt!);
  const data = { runId: state.runId!, repoId: state.repoId!, ...outcome, durationMs: Math.max(0, now.getTime() - since) };
  return [{ contract: CiEvents.runEnded, data, subject: subject(state.runId!) }];
}

export function evolveRun(state: RunState, event: Pick<StoredEvent, 'type' | 'version' | 'data' | 'occurredAt'>): RunState {
  const next = { ...state, version: event.version };
  switch (event.type) {
    case CiEvents.runQueued.type: {
      const data = event.data as EventDataOf<typeof CiEvents.runQueued>;
      return { ...next, runId: data.runId, repoId: data.repoId, status: 'queued', createdAt: event.occurredAt };
    }
    case CiEvents.runStarted.type:
      return { ...next, status: 'running', startedAt: event.occurredAt };
    case CiEvents.runCancelRequested.type:
      return { ...next, cancelRequested: true };
    case CiEvents.runEnded.type:
      return { ...next, status: (event.data as EventDataOf<typeof CiEvents.runEnded>).status };
    default:
      return next;
  }
}
