import { Checker, auditOps, type Connections } from './checks';
import { FAULTS, type Fault, type FaultContext } from './faults';
import { BOUNDS, parseArgs, PROFILES, type ChaosOptions, type Profile } from './options';
import { is2xx, is4xx, is5xx, isError, ms, statusSummary, sumStatus, table } from './report';
import { Sampler } from './soak';
import { POOL_SIZE, sleep, startChaosStack, type ChaosStack } from './topology';
import { newPhase, Workload, type OpRecord } from './workload';

/**
 * `npm run chaos` (`npm run build && node dist/scripts/chaos/main.js`): the scripted workload
 * against 2 gateways, 2 identity, 2 assets and 2 ci-runners while one fault at a time is injected,
 * then the invariants (README "Reliability"). Flags: see options.ts. Exits 1 naming every failed
 * invariant, 2 when the suite itself could not run.
 */
export interface Violation {
  phase: string;
  invariant: string;
  detail: string;
}

export interface PhaseResult {
  name: string;
  row: Record<string, string>;
}

export async function runChaos(options: ChaosOptions, log: (line: string) => void = console.log): Promise<{ violations: Violation[]; results: PhaseResult[] }> {
  const profile = PROFILES[options.profile];
  const violations: Violation[] = [];
  const results: PhaseResult[] = [];
  const started = Date.now();
  log(`chaos: profile ${options.profile}; starting 2 gateways, 2 identity, 2 assets, 2 ci-runners on private NATS, PostgreSQL and S3 …`);
  const stack = await startChaosStack();
  activeStack = stack;
  const checker = new Checker(stack);
  let failed = false;
  try {
    log(`chaos: stack ready in ${((Date.now() - started) / 1000).toFixed(1)} s (logs: ${stack.logDir})`);
    const workload = new Workload(stack.urls, stack.admin, { actors: profile.actors, thinkMs: profile.thinkMs, maxAttempts: 4, requestTimeoutMs: 15000 });
    await workload.setup();
    const idempotent = options.idempotency === 'on' || (options.idempotency === 'auto' && workload.idempotency === 'available');
    log(`chaos: Idempotency-Key ${workload.idempotency === 'available' ? 'honoured' : 'not honoured (a replay created a second token)'}; refused-but-applied is ${idempotent ? 'an invariant' : 'a reported figure'}`);
    log(`chaos: a 500 during an outage is ${options.strict500 ? 'an invariant failure' : 'a reported figure (--strict-500 to fail on it)'}`);

    // Warm-up, then the idle connection count every phase must come back to.
    workload.phase = newPhase('warm-up');
    workload.start();
    await sleep(2000);
    await workload.stop();
    await checker.connect();
    const baseline = await settledConnections(checker);
    log(`chaos: baseline pg_stat_activity (service roles) ${baseline.total} (${baseline.listeners} LISTEN), NATS connections ${await checker.natsConnections()}`);

    const phases: (Fault | 'soak')[] = options.profile === 'soak' ? ['soak'] : FAULTS.filter((f) => options.only.length === 0 || options.only.includes(f.name));
    for (const fault of phases) {
      const skip = fault !== 'soak' ? fault.unavailable?.() : null;
      if (fault !== 'soak' && skip) {
        log(`\n${fault.name}: skipped (${skip})`);
        results.push({ name: fault.name, row: { skipped: skip } });
        continue;
      }
      const result = await runPhase(fault, { stack, checker, workload, profile, options, baseline, idempotent, log });
      results.push(result.result);
      violations.push(...result.violations);
    }
    log(`\n${summaryTable(results)}`);
    log(`\nchaos: ${violations.length === 0 ? 'all invariants held' : `${violations.length} invariant(s) FAILED`} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    for (const v of violations) log(`  FAILED [${v.phase}] ${v.invariant}: ${v.detail}`);
    failed = violations.length > 0;
    return { violations, results };
  } catch (error) {
    failed = true;
    throw error;
  } finally {
    await checker.close();
    const keep = options.keep || failed;
    await stack.stop({ keepData: keep }).catch((error) => log(`chaos: stop failed: ${(error as Error).message}`));
    activeStack = null;
    if (keep) log(`chaos: data and logs kept in ${stack.dataDir}`);
  }
}

interface PhaseDeps {
  stack: ChaosStack;
  checker: Checker;
  workload: Workload;
  profile: Profile;
  options: ChaosOptions;
  baseline: Connections;
  idempotent: boolean;
  log: (line: string) => void;
}

async function runPhase(fault: Fault | 'soak', deps: PhaseDeps): Promise<{ result: PhaseResult; violations: Violation[] }> {
  const { stack, checker, workload, profile, options, log } = deps;
  const name = fault === 'soak' ? `soak ${options.soakMinutes} min` : fault.name;
  log(`\n${name}: ${fault === 'soak' ? 'steady mix, RSS and event-loop lag sampled every second' : fault.description}`);
  const phase = newPhase(name);
  workload.phase = phase;
  const natsBefore = await checker.natsConnections();
  const ctx: FaultContext = { stack, workload, checker, holdMs: profile.holdMs, notes: {}, failures: {} };
  const phaseStart = Date.now();
  let sampler: Sampler | null = null;
  workload.start();
  if (fault === 'soak') {
    sampler = new Sampler(stack);
    sampler.start(1000);
    const end = Date.now() + options.soakMinutes * 60000;
    while (Date.now() < end) {
      await sleep(Math.min(60000, end - Date.now()));
      log(`  soak: ${((Date.now() - phaseStart) / 60000).toFixed(1)} min, ${phase.requests} requests, ${sumStatus(phase.byStatus, (k) => is5xx(k) || isError(k))} errors`);
    }
  } else {
    await sleep(profile.beforeMs);
    try {
      await fault.run(ctx);
    } catch (error) {
      ctx.failures['fault injected and healed'] = (error as Error).message;
    }
  }
  const healedAt = Date.now();
  const readyMs = await checker.readyz(BOUNDS.readyz);
  await sleep(profile.afterMs);
  await workload.stop();
  sampler?.stop();
  await workload.lateProbe();
  const drain = await checker.drained(BOUNDS.drain);
  const backlogAfterHeal = await checker.backlogPublished(phaseStart, healedAt);
  const publishLag = await checker.maxPublishLag(phaseStart);
  const events = await checker.compareEvents();
  let byRid = await checker.eventsByRequest();
  const audit = auditOps(phase, byRid);
  // The idempotent retry must return what a refused change did after all: a create with its
  // Idempotency-Key (when honoured), a DELETE or PUT as it is (idempotent by nature). Logins and
  // uploads are not replayed (a replay would be a new session or a new upload).
  const replayable = (o: OpRecord) => (o.create ? deps.idempotent : o.method === 'DELETE' || (o.method === 'PUT' && !o.op.startsWith('asset')));
  let replayed = 0;
  let replayResolved = 0;
  let createsResolved = 0;
  const replayStatuses: string[] = [];
  for (const op of audit.refusedApplied.filter(replayable)) {
    replayed++;
    const headers: Record<string, string> = { 'x-request-id': op.rid };
    if (op.create) headers['idempotency-key'] = op.rid;
    const reply = await workload.send(0, op.method, op.path, { token: op.token, json: op.body, headers });
    replayStatuses.push(`${op.op} ${reply.status}${reply.code ? ` ${reply.code}` : ''}`);
    if (typeof reply.status === 'number' && reply.status < 300) {
      replayResolved++;
      if (op.create) createsResolved++;
    }
  }
  if (replayed) byRid = await checker.eventsByRequest();
  const duplicatesAfterReplay = auditOps(phase, byRid).duplicateApplied;
  const stuck = await checker.unfinishedRuns(BOUNDS.runs);
  const connections = await checker.connectionsBackTo(deps.baseline, BOUNDS.connections);
  const natsAfter = await checker.natsConnections();
  const crashed = [...stack.processes.values()].filter((p) => p.exit);
  const five = sumStatus(phase.byStatus, (k) => k.startsWith('500'));

  const violations: Violation[] = [];
  const fail = (invariant: string, detail: string) => violations.push({ phase: name, invariant, detail });
  for (const [invariant, detail] of Object.entries(ctx.failures)) fail(invariant, detail);
  if (audit.okWithoutEvent.length) fail('every 2xx change has its event in PostgreSQL', audit.okWithoutEvent.slice(0, 5).map((o) => `${o.op} ${o.rid} → ${o.status}`).join('; '));
  const unresolved = audit.refusedApplied.filter((o) => o.create).length - createsResolved;
  if (deps.idempotent && unresolved > 0) fail('nothing refused is applied unless the idempotent retry returns it', `${unresolved} refused create(s) applied and not returned by a replay`);
  if (deps.idempotent && duplicatesAfterReplay.length) fail('a create retried with one Idempotency-Key applies once', duplicatesAfterReplay.slice(0, 5).map((o) => `${o.op} ${o.rid} (${o.trail.join('→')})`).join('; '));
  if (events.missing.length || events.unknown.length) fail('events in PostgreSQL = distinct event ids on EVENTS', `${events.missing.length} missing on EVENTS${events.missing.length ? ` (e.g. ${events.missing.slice(0, 3).join(', ')})` : ''}, ${events.unknown.length} on EVENTS only${events.unknown.length ? ` (e.g. ${events.unknown.slice(0, 3).join(', ')})` : ''}`);
  if (events.duplicates) fail('no duplicate event id on EVENTS', `${events.duplicates} duplicate message(s)`);
  if (drain.ms === null) fail(`every event published within ${BOUNDS.drain} ms after recovery`, `${drain.unpublished} still unpublished`);
  if (phase.acceptedAfterRevoke.length) {
    fail('no token accepted after its revoke call returned', phase.acceptedAfterRevoke.slice(0, 5).map((p) => `${p.kind} at gateway-${'ab'[p.gateway]} → ${p.status} ${p.msAfterRevoke} ms after${p.late ? ' (late probe)' : ''}`).join('; '));
  }
  if (readyMs === null) fail(`/readyz 200 at every gateway within ${BOUNDS.readyz} ms`, 'not ready');
  // A leak is a LISTEN connection too many (or one lost), or pools past their size; pool clients
  // kept warm by polls move the total by one or two without leaking anything (reported, not failed).
  const poolBound = (stack.processes.size - stack.urls.length) * POOL_SIZE;
  if (connections.listeners !== deps.baseline.listeners || connections.pool > poolBound) {
    fail('pg_stat_activity back to its baseline (LISTEN connections equal, pools within their size)', `${connections.listeners} LISTEN (baseline ${deps.baseline.listeners}), ${connections.pool} pool (bound ${poolBound}): ${await checker.connectionDetail()}`);
  }
  if (stuck.length) fail('no run stuck queued/running', stuck.map((r) => `${r.id} ${r.status} ${JSON.stringify(r.runner)}`).join('; '));
  if (crashed.length) fail('no service exits unless killed', crashed.map((p) => `${p.name} exited ${p.exit!.code}`).join('; '));
  if (options.strict500 && five) fail('no 500 during an outage (503 service_unavailable instead)', `${five} × 500`);

  let soakTable = '';
  if (sampler) {
    // Heaps and bounded caches (auth cache, LRUs) fill during the first minutes: fit after 30 % of the run.
    const warmup = Math.round(options.soakMinutes * 60 * 0.3);
    const { rows, text } = sampler.summary(warmup);
    soakTable = `${text}\n(samples: ${sampler.writeCsv()})`;
    const errors = sumStatus(phase.byStatus, (k) => is5xx(k) || isError(k));
    if (errors) fail('soak: no error', statusSummary(phase.byStatus, (k) => is5xx(k) || isError(k)));
    if (sampler.errors.length) fail('soak: every process alive', sampler.errors.slice(0, 3).join('; '));
    // The heap of every Node process: what a leak in our code grows (RSS is reported, see Sampler.summary).
    for (const r of rows) {
      if (r.heapFloorSlope !== undefined && r.heapFloorSlope > options.maxSlope) {
        fail('soak: no upward heap trend', `${r.name} heap floor rises ${r.heapFloorSlope.toFixed(2)} MiB/min after warm-up (bound ${options.maxSlope})`);
      }
    }
    const unsampled = rows.filter((r) => r.name !== 'nats-server' && r.heapFloorSlope === undefined).map((r) => r.name);
    if (unsampled.length) fail('soak: no upward heap trend', `no heap samples from ${unsampled.join(', ')} (metrics listener down?)`);
  }
  const row: Record<string, string> = {
    requests: String(phase.requests),
    '2xx': String(sumStatus(phase.byStatus, is2xx)),
    '4xx': statusSummary(phase.byStatus, is4xx),
    '5xx': statusSummary(phase.byStatus, is5xx),
    'connection errors': statusSummary(phase.byStatus, isError),
    'changes (2xx / refused after retries)': `${phase.ops.length} (${audit.ok2xx} / ${audit.refused})`,
    'refused but applied': `${audit.refusedApplied.length}${audit.refusedApplied.length ? ` (${[...new Set(audit.refusedApplied.map((o) => o.op))].join(', ')})` : ''}${replayed ? `; replayed after recovery: ${replayResolved}/${replayed} 2xx` : ''}`,
    'creates applied twice (retry)': String(duplicatesAfterReplay.length),
    '2xx without event': String(audit.okWithoutEvent.length),
    'events PG / EVENTS distinct': `${events.pg} / ${events.distinct}`,
    'duplicates on EVENTS': String(events.duplicates),
    'on EVENTS without a store (not compared)': events.unstored.size ? [...events.unstored].map(([family, n]) => `${family}.* ×${n}`).join(', ') : '0',
    'max publish lag (commit → published)': ms(publishLag),
    'backlog published after heal': ms(backlogAfterHeal),
    '/readyz 200 after heal': ms(readyMs),
    'pg_stat_activity baseline → after': `${deps.baseline.total} → ${connections.total} (LISTEN ${deps.baseline.listeners} → ${connections.listeners})`,
    'NATS connections before → after': `${natsBefore} → ${natsAfter}`,
    'revoked tokens / probes': `${phase.revoked.length} / ${phase.probes}`,
    'tokens accepted after revoke': String(phase.acceptedAfterRevoke.length),
    'fresh token refused 401': String(phase.freshRefused),
    'runs triggered / stuck': `${phase.runIds.length} / ${stuck.length}`,
    ...ctx.notes,
    ...(audit.refusedApplied.length ? { 'refused but applied, which': detail(audit.refusedApplied) } : {}),
    ...(replayStatuses.length ? { 'replay answers': replayStatuses.slice(0, 4).join(', ') } : {}),
    ...(duplicatesAfterReplay.length ? { 'applied twice, which': detail(duplicatesAfterReplay) } : {}),
    invariants: violations.length ? `FAILED: ${violations.map((v) => v.invariant).join('; ')}` : 'held',
  };
  // A crash is reported in the phase it happened; the process is started again for the next one.
  for (const p of crashed) {
    row[`${p.name} crashed`] = `exit ${p.exit!.code}; restarted for the next phase (log: ${p.proc.logFile})`;
    await stack.restart(p.name).catch((error: Error) => fail('a crashed service starts again', `${p.name}: ${error.message.split('\n')[0]}`));
  }
  log(table([name, 'value'], Object.entries(row)));
  if (soakTable) log(`\n${soakTable}`);
  return { result: { name, row }, violations };
}

/** `pat.create 503→201` … for the table: what happened to each attempt. */
function detail(ops: OpRecord[]): string {
  const shown = ops.slice(0, 4).map((o) => `${o.op} ${o.trail.map((s) => (s === 'ERR' ? 'ERR' : String(s))).join('→')}`);
  return ops.length > 4 ? `${shown.join(', ')} …` : shown.join(', ');
}

/** The idle connection count: waits until it stops falling (pools drop idle clients after 10 s). */
async function settledConnections(checker: Checker): Promise<Connections> {
  let lowest = await checker.connections();
  let stableSince = Date.now();
  const deadline = Date.now() + 15000;
  while (Date.now() < deadline && Date.now() - stableSince < 11000) {
    await sleep(500);
    const now = await checker.connections();
    if (now.total < lowest.total) {
      lowest = now;
      stableSince = Date.now();
    }
  }
  return lowest;
}

function summaryTable(results: PhaseResult[]): string {
  const columns = ['requests', '2xx', '5xx', 'refused but applied', 'events PG / EVENTS distinct', 'duplicates on EVENTS', 'max publish lag (commit → published)', 'backlog published after heal', '/readyz 200 after heal', 'pg_stat_activity baseline → after', 'tokens accepted after revoke', 'invariants'];
  return table(['phase', ...columns], results.map((r) => [r.name, ...columns.map((c) => (r.row.skipped ? (c === 'invariants' ? `skipped: ${r.row.skipped}` : '') : (r.row[c] ?? '')))]));
}

let activeStack: ChaosStack | null = null;

// Run as a program (not when imported, e.g. by a test).
if (typeof require !== 'undefined' && require.main === module) {
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      console.log(`\nchaos: ${signal}: stopping everything it started …`);
      void (activeStack?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
    });
  }
  runChaos(parseArgs(process.argv.slice(2))).then(
    ({ violations }) => process.exit(violations.length ? 1 : 0),
    (error: Error) => {
      console.error(`chaos: ${error.stack ?? error.message}`);
      process.exit(2);
    },
  );
}
