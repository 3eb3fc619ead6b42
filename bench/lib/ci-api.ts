import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';

/** Where the CI benches work: gateway A, as the admin, in one repository of their own. */
export interface CiContext {
  url: string;
  session: string;
  repo: string;
  /** Directory shared by the bench and the steps it runs (job env BENCH_DIR). */
  dir: string;
  ends: RunEnds;
}

export async function callJson(url: string, token: string, method: string, body?: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

export async function createRepo(url: string, session: string, name: string): Promise<string> {
  const created = await callJson(`${url}/api/v1/repos`, session, 'POST', { name, visibility: 'private' });
  if (created.status !== 201) throw new Error(`create repo: ${created.status} ${JSON.stringify(created.body)}`);
  return created.body.fullName as string;
}

/** Puts a one-step job; the step sees the bench's shared directory as $BENCH_DIR. */
export async function putJob(ctx: CiContext, name: string, script: string): Promise<void> {
  const put = await callJson(`${ctx.url}/api/v1/repos/${ctx.repo}/jobs/${name}`, ctx.session, 'PUT', { steps: [{ run: script }], env: { BENCH_DIR: ctx.dir }, timeoutSeconds: 300 });
  if (put.status !== 201 && put.status !== 200) throw new Error(`put job ${name}: ${put.status} ${JSON.stringify(put.body)}`);
}

export async function trigger(ctx: CiContext, job: string): Promise<string> {
  const run = await callJson(`${ctx.url}/api/v1/repos/${ctx.repo}/jobs/${job}/runs`, ctx.session, 'POST', {});
  if (run.status !== 201) throw new Error(`trigger ${job}: ${run.status} ${JSON.stringify(run.body)}`);
  return run.body.id as string;
}

/** Status of `GET /api/v1/user` with `token`, body read (so the connection is reused). */
export async function whoami(url: string, token: string): Promise<number> {
  const response = await fetch(`${url}/api/v1/user`, { headers: { authorization: `Bearer ${token}` } });
  await response.arrayBuffer();
  return response.status;
}

/** Polls for a file a step writes (every 2 ms: the bench waits on it, the run does not). */
export async function waitForFile(path: string, timeoutMs = 30000): Promise<string> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      return await readFile(path, 'utf8');
    } catch {
      if (performance.now() > deadline) throw new Error(`${path} did not appear within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }
}

/**
 * When each run's final status was announced on `ci.runs.<id>.status` (performance.now() at
 * arrival). One wildcard subscription made up front: a short run may end before its trigger's
 * answer is even read, and its end must not be missed.
 */
export class RunEnds {
  private readonly ended = new Map<string, { at: number; status: string }>();
  private readonly waiters = new Map<string, () => void>();
  private readonly subscription: Subscription;

  constructor(nc: NatsConnection) {
    this.subscription = nc.subscribe('ci.runs.*.status', {
      callback: (error, message) => {
        const at = performance.now(); // first: this is the moment the end is known here
        if (error) return;
        const { status } = message.json<{ status: string }>();
        if (status === 'queued' || status === 'running') return;
        const id = message.subject.split('.')[2];
        this.ended.set(id, { at, status });
        this.waiters.get(id)?.();
      },
    });
  }

  /** Resolves with the run's end as seen here; rejects if it does not end within `timeoutMs`. */
  async wait(id: string, timeoutMs = 120000): Promise<{ at: number; status: string }> {
    if (!this.ended.has(id)) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`run ${id} did not end within ${timeoutMs} ms`)), timeoutMs);
        this.waiters.set(id, () => (clearTimeout(timer), resolve()));
      });
      this.waiters.delete(id);
    }
    const end = this.ended.get(id)!;
    this.ended.delete(id);
    return end;
  }

  close(): void {
    this.subscription.unsubscribe();
  }
}
