import { describe, expect, it } from '@jest/globals';
import { auditOps } from './checks';
import { parseArgs } from './options';
import { statusSummary, table } from './report';
import { slopePerMinute, windowMinima } from './soak';
import { newPhase, type OpRecord } from './workload';

const op = (rid: string, status: OpRecord['status'], extra: Partial<OpRecord> = {}): OpRecord => ({
  rid, op: 'pat.create', create: true, eventTypes: ['identity.pat.created'], status, attempts: 1, trail: [status], method: 'POST', path: '/x', token: 't', ...extra,
});

describe('chaos suite helpers', () => {
  it('audits what the client was told against the events carrying its request ids', () => {
    const phase = newPhase('p');
    phase.ops.push(op('ok', 201), op('lost', 201), op('refused-applied', 503), op('refused-clean', 'ERR'), op('twice', 201), op('client-error', 400));
    const events = new Map([
      ['ok', new Map([['identity.pat.created', 1]])],
      ['refused-applied', new Map([['identity.pat.created', 1]])],
      ['twice', new Map([['identity.pat.created', 2]])],
      ['client-error', new Map([['identity.session.started', 1]])],
    ]);
    const audit = auditOps(phase, events);
    expect(audit.ok2xx).toBe(3);
    expect(audit.okWithoutEvent.map((o) => o.rid)).toEqual(['lost']);
    expect(audit.refused).toBe(2);
    expect(audit.refusedApplied.map((o) => o.rid)).toEqual(['refused-applied']);
    expect(audit.duplicateApplied.map((o) => o.rid)).toEqual(['twice']);
  });

  it('fits an RSS trend in MiB per minute', () => {
    const rising = Array.from({ length: 61 }, (_, t) => ({ t, rssMiB: 100 + t / 30 }));
    expect(slopePerMinute(rising)).toBeCloseTo(2, 6);
    expect(slopePerMinute(Array.from({ length: 10 }, (_, t) => ({ t, rssMiB: 80 })))).toBe(0);
    expect(slopePerMinute([{ t: 0, rssMiB: 1 }])).toBe(0);
    // A sawtooth (allocate, collect) on a flat floor: the floor's slope is 0.
    const sawtooth = Array.from({ length: 120 }, (_, t) => ({ t, rssMiB: 100 + (t % 10) * 3 }));
    expect(windowMinima(sawtooth, 30).map((s) => s.rssMiB)).toEqual([100, 100, 100, 100]);
    expect(slopePerMinute(windowMinima(sawtooth, 30))).toBe(0);
  });

  it('fits the heap floor by its own figure, not RSS', () => {
    // RSS climbs (pages kept), the heap saws on a flat floor: no heap trend. And a heap that leaks.
    const flatHeap = Array.from({ length: 240 }, (_, t) => ({ t, rssMiB: 100 + t / 10, heapMiB: 30 + (t % 45) / 5 }));
    expect(slopePerMinute(windowMinima(flatHeap, 60, 'heapMiB'), 'heapMiB')).toBeCloseTo(0, 6);
    expect(slopePerMinute(windowMinima(flatHeap, 60))).toBeGreaterThan(5);
    // A last window of two samples (the phase ended) is no floor, whatever they say.
    const spike = [...flatHeap, { t: 240, rssMiB: 200, heapMiB: 60 }, { t: 241, rssMiB: 200, heapMiB: 61 }];
    expect(windowMinima(spike, 60, 'heapMiB')).toHaveLength(4);
    expect(slopePerMinute(windowMinima(spike, 60, 'heapMiB'), 'heapMiB')).toBeCloseTo(0, 6);
    const leaking = flatHeap.map((s) => ({ ...s, heapMiB: s.heapMiB + s.t / 30 }));
    expect(slopePerMinute(windowMinima(leaking, 60, 'heapMiB'), 'heapMiB')).toBeCloseTo(2, 0);
  });

  it('parses profiles and refuses unknown faults', () => {
    expect(parseArgs(['--short', '--only=nats-kill9'])).toMatchObject({ profile: 'short', only: ['nats-kill9'], idempotency: 'auto' });
    expect(parseArgs(['--soak', '--soak-minutes=2']).soakMinutes).toBe(2);
    expect(parseArgs([]).profile).toBe('default');
    expect(() => parseArgs(['--only=nope'])).toThrow(/unknown fault nope/);
    expect(() => parseArgs(['--idempotency=maybe'])).toThrow(/auto, on or off/);
  });

  it('renders tables and status summaries', () => {
    expect(table(['a', 'bb'], [['1', '2']])).toBe('| a | bb |\n|---|----|\n| 1 | 2  |');
    expect(statusSummary(new Map([['503 x', 2], ['500 y', 5], ['201', 9]]), (k) => k.startsWith('5'))).toBe('500 y ×5, 503 x ×2');
  });
});
