import { describe, expect, it } from '@jest/globals';
import { CiEvents } from '#contracts';
import type { NewEvent } from '#platform';
import { decideCancel, decideEnd, decideQueue, decideStart, evolveRun, initialRunState, resolveParams, runSpecOf, type RunState } from './runs.decider';
import { eventTypes, refusalOf } from '#platform/testing/decider';

const T0 = '2026-11-30T10:00:00.000Z';
const spec = runSpecOf({ steps: [{ run: 'make' }], params: [{ name: 'target', required: true }, { name: 'mode', default: 'fast' }, { name: 'note' }] });

/** Given these events (as stored), the state a decider sees. */
function given(...events: NewEvent[]): RunState {
  return events.reduce((state, event, i) => evolveRun(state, { type: event.contract.type, version: i + 1, data: event.data, occurredAt: new Date(Date.parse(T0) + i * 1000).toISOString() }), initialRunState);
}
const types = eventTypes;
const code = refusalOf;

const queued = decideQueue({ runId: 'r1', repoId: 'p1', repo: 'acme/widgets', job: 'build', number: 7, spec, params: { target: 'linux' } })[0];
const started = (state: RunState) => decideStart(state, { kind: 'local', worker: 'w1' })[0];

describe('run decider', () => {
  it('queue: fills defaults, leaves out optional parameters nobody set, copies the spec', () => {
    expect(queued.contract).toBe(CiEvents.runQueued);
    expect(queued.data).toMatchObject({ number: 7, params: { target: 'linux', mode: 'fast' }, spec: { timeoutSeconds: 3600, runsOn: 'local' } });
  });

  it('queue: unknown_param and missing_param name the parameter', () => {
    expect(code(() => resolveParams(spec, { target: 'x', nope: '1' }))).toBe('unknown_param params.nope');
    expect(code(() => resolveParams(spec, { mode: 'slow' }))).toBe('missing_param params.target');
  });

  it('start: only a queued run', () => {
    const state = given(queued);
    expect(types(decideStart(state, { kind: 'local', worker: 'w1' }))).toEqual(['ci.run.started']);
    expect(code(() => decideStart(given(queued, started(state)), { kind: 'local', worker: 'w2' }))).toBe('conflict');
  });

  it('cancel: a queued run ends at once; a running one is asked (once); an ended one is run_finished', () => {
    const now = new Date(Date.parse(T0) + 5000);
    const [ended] = decideCancel(given(queued), now);
    expect(ended.data).toMatchObject({ status: 'cancelled', reason: 'cancelled', exitCode: null, durationMs: 5000 });
    const running = given(queued, started(given(queued)));
    expect(types(decideCancel(running, now))).toEqual(['ci.run.cancel_requested']);
    const asked = given(queued, started(given(queued)), decideCancel(running, now)[0]);
    expect(decideCancel(asked, now)).toEqual([]);
    expect(code(() => decideCancel(given(queued, ended), now))).toBe('run_finished');
    expect(code(() => decideCancel(initialRunState, now))).toBe('not_found');
  });

  it('end: measures from the start, and a second end changes nothing', () => {
    const running = given(queued, started(given(queued)));
    const [ended] = decideEnd(running, { status: 'failed', exitCode: 2, reason: 'step_failed' }, new Date(Date.parse(T0) + 61_000));
    expect(ended.data).toEqual({ runId: 'r1', repoId: 'p1', status: 'failed', exitCode: 2, reason: 'step_failed', durationMs: 60_000 });
    expect(decideEnd(given(queued, started(given(queued)), ended), { status: 'succeeded', exitCode: 0, reason: null }, new Date())).toEqual([]);
  });
});
