import { connect } from '@nats-io/transport-node';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import type { BenchStack } from './bench-stack';
import { createRepo, putJob, RunEnds, trigger, waitForFile, whoami, type CiContext } from './ci-api';
import { measureFanout, reportFanout } from './ci-fanout';
import { percentile } from './revocation';

/** The step writes its GANTRY_URL and token (atomically: rename), then holds the run open until told. */
const HOLD_TOKEN = [
  'printf "%s\\n%s" "$GANTRY_URL" "$GANTRY_TOKEN" > "$BENCH_DIR/token-$GANTRY_RUN_ID.tmp"',
  'mv "$BENCH_DIR/token-$GANTRY_RUN_ID.tmp" "$BENCH_DIR/token-$GANTRY_RUN_ID"',
  'while [ ! -e "$BENCH_DIR/stop-$GANTRY_RUN_ID" ]; do sleep 0.01; done',
].join('\n');
const STAMP = 'date +%s%N > "$BENCH_DIR/started-$GANTRY_RUN_ID"';
/** How long to keep asking before calling a token never refused (recorded as Infinity). */
const REFUSAL_TIMEOUT_MS = 10000;

interface RefusalTrial {
  latencyMs: number;
  /** 200s for requests that began after the end was announced. */
  lateAccepts: number;
  requests: number;
}

/**
 * Run end → its token refused. The token is cached at the gateway (one 200) before the run ends;
 * t_end is when the final status arrives on NATS (published after the run.ended commit), then
 * `GET /api/v1/user` in a tight loop until the 401. The revocation itself travels through the
 * outbox relay, JetStream and identity's durable consumer, then to every gateway.
 */
async function refusalTrial(ctx: CiContext): Promise<RefusalTrial> {
  const id = await trigger(ctx, 'hold-token');
  const [stepUrl, token] = (await waitForFile(join(ctx.dir, `token-${id}`))).split('\n');
  try {
    // The URL the step was given, so this also shows steps reach a live gateway.
    if ((await whoami(stepUrl, token)) !== 200) throw new Error(`run ${id}: its token was not accepted at ${stepUrl}`);
  } finally {
    writeFileSync(join(ctx.dir, `stop-${id}`), ''); // never leave a run holding the worker
  }
  const end = await ctx.ends.wait(id);
  let lateAccepts = 0;
  let requests = 0;
  for (;;) {
    const status = await whoami(stepUrl, token);
    requests++;
    if (status === 401) return { latencyMs: performance.now() - end.at, lateAccepts, requests };
    if (status !== 200) throw new Error(`run ${id}: GET /api/v1/user answered ${status}`);
    lateAccepts++;
    if (performance.now() - end.at > REFUSAL_TIMEOUT_MS) return { latencyMs: Number.POSITIVE_INFINITY, lateAccepts, requests };
  }
}

/**
 * Trigger → first step running, with an idle worker: the step's own clock reading (`date +%s%N`)
 * minus the wall clock just before the trigger POST; both are CLOCK_REALTIME on this machine.
 */
async function startTrial(ctx: CiContext): Promise<number> {
  const before = Date.now();
  const id = await trigger(ctx, 'stamp');
  const end = await ctx.ends.wait(id);
  if (end.status !== 'succeeded') throw new Error(`run ${id} ${end.status}`);
  const stampNs = BigInt((await readFile(join(ctx.dir, `started-${id}`), 'utf8')).trim());
  await new Promise((resolve) => setTimeout(resolve, 20)); // the worker back to idle (its post-run claim round done)
  return Number(stampNs / 1000n) / 1000 - before;
}

/** Runs `trial` once as a warm-up (not counted), then `trials` times one after another. */
async function repeat<T>(trials: number, trial: () => Promise<T>): Promise<T[]> {
  await trial();
  const results: T[] = [];
  for (let i = 0; i < trials; i++) results.push(await trial());
  return results;
}

/** Rows 1 and 2: a run's token refused after its end, and trigger → step running. */
async function latencyRows(ctx: CiContext, trials: number): Promise<void> {
  const refusals = await repeat(trials, () => refusalTrial(ctx));
  console.log(`\n## CI runs on gateway A (${trials} runs each, one after another, after one warm-up)`);
  console.log(`run end → its token refused at the gateway: ${ms(refusals.map((t) => t.latencyMs))} (goal p99 ≤ 100 ms)`);
  const late = refusals.reduce((sum, t) => sum + t.lateAccepts, 0);
  const requests = refusals.reduce((sum, t) => sum + t.requests, 0);
  const runs = refusals.filter((t) => t.lateAccepts > 0).length;
  console.log(`200s for requests that began after the run's end was announced: ${late} of ${requests} (in ${runs} of ${trials} runs)`);
  const starts = await repeat(trials, () => startTrial(ctx));
  console.log(`trigger → first step running (idle worker): ${ms(starts)} (goal p99 ≤ 250 ms)`);
}

/**
 * Gives PostgreSQL the statistics a running installation has. The bench's database is minutes old
 * and ci.run_log_lines was never analyzed: PostgreSQL then plans a watcher's log page (`seq > $2
 * ORDER BY seq LIMIT n`) as a bitmap scan of all the run's remaining lines plus a sort (30–300 ms
 * a page instead of 0.3 ms) until autovacuum analyzes the table, at some moment mid-test: the row
 * would measure when that happens. A fresh installation has that cost until its first analyze.
 */
async function analyze(databaseUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('ANALYZE');
  } finally {
    await client.end();
  }
}

const ms = (values: number[]) => `p50 ${percentile(values, 50).toFixed(1)} ms, p99 ${percentile(values, 99).toFixed(1)} ms`;

/**
 * The CI section of `npm run bench`, on gateway A and the stack's ci-runner. BENCH_CI_TRIALS,
 * BENCH_CI_LINES and BENCH_CI_WATCHERS tune it. Returns false if a correctness check failed.
 */
export async function benchCi(stack: BenchStack, session: string): Promise<boolean> {
  const trials = Number(process.env.BENCH_CI_TRIALS ?? 50);
  const lines = Number(process.env.BENCH_CI_LINES ?? 200000);
  const watchers = Number(process.env.BENCH_CI_WATCHERS ?? 50);
  const url = stack.gatewayUrls[0];
  const nc = await connect({ servers: stack.natsUrl, ...stack.natsAdmin });
  const dir = mkdtempSync(join(tmpdir(), 'gantry-bench-ci-'));
  const ctx: CiContext = { url, session, repo: await createRepo(url, session, `bench-ci-${Date.now()}`), dir, ends: new RunEnds(nc) };
  try {
    await nc.flush(); // the wildcard subscription is in place before any run
    await putJob(ctx, 'hold-token', HOLD_TOKEN);
    await putJob(ctx, 'stamp', STAMP);
    await putJob(ctx, 'fanout', `seq 1 ${lines}`);

    await latencyRows(ctx, trials);
    await analyze(stack.databaseUrl);
    const fanout = await measureFanout(ctx, { lines, watchers, gatewayPid: stack.gatewayPids[0], ciRunnerPid: stack.ciRunnerPid });
    reportFanout(fanout);
    return fanout.failures.length === 0;
  } finally {
    ctx.ends.close();
    await nc.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
