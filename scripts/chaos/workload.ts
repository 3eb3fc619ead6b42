import { randomBytes } from 'node:crypto';
import { sleep } from './topology';

/**
 * The scripted workload: a few actors (member users), each looping over a weighted mix of PAT
 * create → use → revoke, logins, API key create → use → revoke, job puts, run triggers, asset
 * uploads, repository creates and reads, against every gateway at random. Each logical change
 * carries one `X-Request-Id` for all its attempts (events record it, so checks find a change's
 * event by it) and creates carry an `Idempotency-Key`; a 5xx or a connection error is retried on
 * the next gateway with the same key (what a client behind a load balancer does).
 */

export type Status = number | 'ERR';

export interface OpRecord {
  rid: string;
  op: string;
  /** A creating POST (Idempotency-Key sent). */
  create: boolean;
  /** Event types one of which must carry `rid` when the change succeeded. */
  eventTypes: string[];
  status: Status;
  code?: string;
  attempts: number;
  /** Statuses of every attempt (for refused-then-retried analysis). */
  trail: Status[];
  method: string;
  path: string;
  token: string;
  body?: unknown;
  resourceId?: string;
}

export interface RevokeProbe {
  kind: 'pat' | 'key';
  gateway: number;
  status: Status;
  msAfterRevoke: number;
  late: boolean;
}

export interface PhaseStats {
  name: string;
  requests: number;
  byStatus: Map<string, number>;
  ops: OpRecord[];
  revoked: { token: string; kind: 'pat' | 'key'; at: number }[];
  probes: number;
  acceptedAfterRevoke: RevokeProbe[];
  /** A token just created (2xx) refused at a gateway with 401 (not a 5xx): suspicious, reported. */
  freshRefused: number;
  runIds: string[];
}

export function newPhase(name: string): PhaseStats {
  return { name, requests: 0, byStatus: new Map(), ops: [], revoked: [], probes: 0, acceptedAfterRevoke: [], freshRefused: 0, runIds: [] };
}

interface Reply {
  status: Status;
  code?: string;
  body?: any;
  retryAfter?: number;
}

interface Actor {
  username: string;
  password: string;
  session: string;
  repo: string;
  hasJob: boolean;
}

const RETRYABLE = (r: Reply) => r.status === 'ERR' || r.status === 500 || r.status === 502 || r.status === 503 || r.status === 504 || r.code === 'idempotency_key_in_use';
const accepted = (s: Status) => typeof s === 'number' && ((s >= 200 && s < 300) || s === 403);

export interface WorkloadOptions {
  actors: number;
  /** Pause between an actor's operations (ms). */
  thinkMs: number;
  maxAttempts: number;
  requestTimeoutMs: number;
}

export class Workload {
  phase: PhaseStats = newPhase('setup');
  idempotency: 'available' | 'absent' | 'unknown' = 'unknown';
  private seq = 0;
  private readonly runId = randomBytes(3).toString('hex');
  private actors: Actor[] = [];
  private running = false;
  private loops: Promise<void>[] = [];
  /** Recently revoked tokens, probed again at random while the workload runs. */
  private recentRevoked: { token: string; kind: 'pat' | 'key'; at: number }[] = [];
  adminSession = '';

  constructor(
    readonly urls: string[],
    private readonly admin: { username: string; password: string },
    private readonly options: WorkloadOptions,
  ) {}

  private rid(): string {
    return `chaos-${this.runId}-${++this.seq}`;
  }

  private gw(): number {
    return Math.floor(Math.random() * this.urls.length);
  }

  async send(gateway: number, method: string, path: string, init: { token?: string; json?: unknown; raw?: Buffer; headers?: Record<string, string> } = {}): Promise<Reply> {
    const headers: Record<string, string> = { ...init.headers };
    if (init.token) headers.authorization = `Bearer ${init.token}`;
    let body: string | Uint8Array | undefined;
    if (init.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(init.json);
    } else if (init.raw) {
      headers['content-type'] = 'application/octet-stream';
      body = new Uint8Array(init.raw);
    }
    this.phase.requests++;
    let reply: Reply;
    try {
      const response = await fetch(`${this.urls[gateway]}${path}`, { method, headers, body, signal: AbortSignal.timeout(this.options.requestTimeoutMs) });
      const text = await response.text();
      let parsed: any = undefined;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = undefined;
      }
      reply = { status: response.status, code: parsed?.error?.code, body: parsed, retryAfter: Number(response.headers.get('retry-after')) || undefined };
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause;
      reply = { status: 'ERR', code: cause?.code ?? (error as Error).name };
    }
    const key = reply.status === 'ERR' ? `ERR ${reply.code}` : reply.status >= 400 ? `${reply.status} ${reply.code ?? '?'}` : String(reply.status);
    this.phase.byStatus.set(key, (this.phase.byStatus.get(key) ?? 0) + 1);
    return reply;
  }

  /** One logical change: same X-Request-Id (and Idempotency-Key for creates) on every attempt. */
  async change(op: string, method: string, path: string, token: string, init: { json?: unknown; raw?: Buffer; create?: boolean; eventTypes: string[] }): Promise<Reply> {
    const rid = this.rid();
    const headers: Record<string, string> = { 'x-request-id': rid };
    if (init.create) headers['idempotency-key'] = rid;
    const trail: Status[] = [];
    let gateway = this.gw();
    let reply: Reply = { status: 'ERR' };
    for (let attempt = 1; attempt <= this.options.maxAttempts; attempt++) {
      reply = await this.send(gateway, method, path, { token, json: init.json, raw: init.raw, headers });
      trail.push(reply.status);
      if (!RETRYABLE(reply) || attempt === this.options.maxAttempts || !this.running) break;
      await sleep(Math.min(1000 * (reply.retryAfter ?? 0) || 250 * 2 ** (attempt - 1), 1500));
      gateway = (gateway + 1) % this.urls.length;
    }
    this.phase.ops.push({
      rid, op, create: !!init.create, eventTypes: init.eventTypes, status: reply.status, code: reply.code, attempts: trail.length, trail,
      method, path, token, body: init.json, resourceId: reply.body?.id ?? reply.body?.user?.id,
    });
    return reply;
  }

  /** Every gateway must refuse a revoked token (401) from the moment its revoke call returned. */
  async probeRevoked(token: string, kind: 'pat' | 'key', revokedAt: number, late = false, gateways = this.urls.map((_, i) => i)): Promise<void> {
    await Promise.all(
      gateways.map(async (gateway) => {
        const reply = await this.send(gateway, 'GET', '/api/v1/user', { token });
        this.phase.probes++;
        if (accepted(reply.status)) this.phase.acceptedAfterRevoke.push({ kind, gateway, status: reply.status, msAfterRevoke: Date.now() - revokedAt, late });
      }),
    );
  }

  private revoked(token: string, kind: 'pat' | 'key') {
    const entry = { token, kind, at: Date.now() };
    this.phase.revoked.push(entry);
    this.recentRevoked.push(entry);
    if (this.recentRevoked.length > 200) this.recentRevoked.shift();
    return entry;
  }

  private async use(token: string): Promise<void> {
    await Promise.all(
      this.urls.map(async (_, gateway) => {
        const reply = await this.send(gateway, 'GET', '/api/v1/user', { token });
        if (reply.status === 401) this.phase.freshRefused++;
      }),
    );
  }

  async login(username: string, password: string): Promise<string> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const reply = await this.send(attempt % this.urls.length, 'POST', '/api/v1/auth/login', { json: { username, password } });
      if (reply.status === 200) return reply.body.token as string;
      await sleep(500);
    }
    throw new Error(`login ${username} failed`);
  }

  /** Users, sessions, one repository with a job per actor; then detects Idempotency-Key support. */
  async setup(): Promise<void> {
    this.adminSession = await this.login(this.admin.username, this.admin.password);
    for (let i = 0; i < this.options.actors; i++) {
      const username = `chaos-${this.runId}-${i}`;
      const password = `pw-${randomBytes(9).toString('base64url')}`;
      const created = await this.send(0, 'POST', '/api/v1/users', { token: this.adminSession, json: { username, password, role: 'member' } });
      if (created.status !== 201) throw new Error(`create user: ${created.status} ${JSON.stringify(created.body)}`);
      const session = await this.login(username, password);
      const repo = await this.send(0, 'POST', '/api/v1/repos', { token: session, json: { name: 'work', visibility: 'private' } });
      if (repo.status !== 201) throw new Error(`create repo: ${repo.status} ${JSON.stringify(repo.body)}`);
      this.actors.push({ username, password, session, repo: `${username}/work`, hasJob: false });
    }
    this.idempotency = await this.detectIdempotency();
  }

  /** The same Idempotency-Key and body twice: the same token back means the header is honoured. */
  private async detectIdempotency(): Promise<'available' | 'absent'> {
    const actor = this.actors[0];
    const key = this.rid();
    const json = { name: `idem-${key}`, scopes: ['repo:read'], expiresInDays: 1 };
    const first = await this.send(0, 'POST', '/api/v1/user/tokens', { token: actor.session, json, headers: { 'idempotency-key': key } });
    const second = await this.send(1 % this.urls.length, 'POST', '/api/v1/user/tokens', { token: actor.session, json, headers: { 'idempotency-key': key } });
    for (const id of new Set([first.body?.id, second.body?.id].filter(Boolean))) await this.send(0, 'DELETE', `/api/v1/user/tokens/${id}`, { token: actor.session });
    return first.status === 201 && second.body?.id === first.body?.id ? 'available' : 'absent';
  }

  start(): void {
    this.running = true;
    this.loops = this.actors.map((actor) => this.loop(actor));
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    this.loops = [];
  }

  private async loop(actor: Actor): Promise<void> {
    const mix: [number, (a: Actor) => Promise<void>][] = [
      [3, (a) => this.patCycle(a)],
      [1, (a) => this.loginCycle(a)],
      [2, (a) => this.keyCycle(a)],
      [1, (a) => this.putJob(a)],
      [1, (a) => this.trigger(a)],
      [2, (a) => this.upload(a)],
      [0.3, (a) => this.createRepo(a)],
      [2, (a) => this.reads(a)],
      [1, () => this.probeRecent()],
    ];
    const total = mix.reduce((sum, [weight]) => sum + weight, 0);
    while (this.running) {
      let pick = Math.random() * total;
      const [, step] = mix.find(([weight]) => (pick -= weight) < 0) ?? mix[0];
      try {
        await step(actor);
      } catch (error) {
        const key = `EXC ${(error as Error).message.slice(0, 60)}`;
        this.phase.byStatus.set(key, (this.phase.byStatus.get(key) ?? 0) + 1);
      }
      if (this.options.thinkMs) await sleep(this.options.thinkMs);
    }
  }

  private async patCycle(a: Actor): Promise<void> {
    const created = await this.change('pat.create', 'POST', '/api/v1/user/tokens', a.session, {
      json: { name: `pat-${this.seq}`, scopes: ['repo:read', 'tokens:manage'], expiresInDays: 1 }, create: true, eventTypes: ['identity.pat.created'],
    });
    if (created.status !== 201) return;
    await this.use(created.body.token);
    const revoke = await this.change('pat.revoke', 'DELETE', `/api/v1/user/tokens/${created.body.id}`, a.session, { eventTypes: ['identity.pat.revoked'] });
    if (revoke.status === 200) await this.probeRevoked(created.body.token, 'pat', this.revoked(created.body.token, 'pat').at);
  }

  private async keyCycle(a: Actor): Promise<void> {
    const created = await this.change('key.create', 'POST', `/api/v1/repos/${a.repo}/keys`, a.session, {
      json: { name: `key-${this.seq}`, scopes: ['repo:read'] }, create: true, eventTypes: ['identity.api_key.created'],
    });
    if (created.status !== 201) return;
    await this.use(created.body.token);
    const revoke = await this.change('key.revoke', 'DELETE', `/api/v1/repos/${a.repo}/keys/${created.body.id}`, a.session, { eventTypes: ['identity.api_key.revoked'] });
    if (revoke.status === 200 || revoke.status === 204) await this.probeRevoked(created.body.token, 'key', this.revoked(created.body.token, 'key').at);
  }

  private async loginCycle(a: Actor): Promise<void> {
    const reply = await this.change('login', 'POST', '/api/v1/auth/login', '', { json: { username: a.username, password: a.password }, eventTypes: ['identity.session.started'] });
    if (reply.status === 200) a.session = reply.body.token;
  }

  private async putJob(a: Actor): Promise<void> {
    const reply = await this.change('job.put', 'PUT', `/api/v1/repos/${a.repo}/jobs/quick`, a.session, {
      json: { steps: [{ run: 'echo chaos $GANTRY_RUN_NUMBER' }], env: { SEQ: String(this.seq) }, timeoutSeconds: 60 }, eventTypes: ['ci.job.put'],
    });
    if (reply.status === 200 || reply.status === 201) a.hasJob = true;
  }

  private async trigger(a: Actor): Promise<void> {
    if (!a.hasJob) return this.putJob(a);
    const reply = await this.change('run.trigger', 'POST', `/api/v1/repos/${a.repo}/jobs/quick/runs`, a.session, { json: {}, create: true, eventTypes: ['ci.run.queued'] });
    if (reply.status === 201) this.phase.runIds.push(reply.body.id);
  }

  private async upload(a: Actor): Promise<void> {
    await this.change('asset.put', 'PUT', `/api/v1/repos/${a.repo}/assets/chaos/${this.seq}.bin`, a.session, {
      raw: randomBytes(1024 + Math.floor(Math.random() * 4096)), eventTypes: ['assets.asset.uploaded', 'assets.asset.replaced'],
    });
  }

  private async createRepo(a: Actor): Promise<void> {
    await this.change('repo.create', 'POST', '/api/v1/repos', a.session, { json: { name: `r${this.seq}`, visibility: 'private' }, create: true, eventTypes: ['identity.repo.created'] });
  }

  private async reads(a: Actor): Promise<void> {
    const g = this.gw();
    await Promise.all([
      this.send(g, 'GET', `/api/v1/repos/${a.repo}/assets?limit=5`, { token: a.session }),
      this.send(g, 'GET', `/api/v1/repos/${a.repo}/runs?limit=5`, { token: a.session }),
      this.send(g, 'GET', '/api/v1/user/tokens', { token: a.session }),
    ]);
  }

  private async probeRecent(): Promise<void> {
    if (this.recentRevoked.length === 0) return;
    const entry = this.recentRevoked[Math.floor(Math.random() * this.recentRevoked.length)];
    await this.probeRevoked(entry.token, entry.kind, entry.at);
  }

  /** After a fault: every token revoked during the phase, at every gateway (also one restarted since). */
  async lateProbe(): Promise<void> {
    for (const entry of this.phase.revoked) await this.probeRevoked(entry.token, entry.kind, entry.at, true);
  }

  /** Pauses between revocation and use: a token cached at a gateway that is about to be stopped. */
  async cachedToken(gateway: number): Promise<{ id: string; token: string; session: string }> {
    const a = this.actors[0];
    for (let attempt = 0; attempt < 10; attempt++) {
      const created = await this.send(0, 'POST', '/api/v1/user/tokens', { token: a.session, json: { name: `cached-${this.seq++}`, scopes: ['repo:read'], expiresInDays: 1 } });
      if (created.status === 201) {
        await this.send(gateway, 'GET', '/api/v1/user', { token: created.body.token });
        return { id: created.body.id, token: created.body.token, session: a.session };
      }
      await sleep(300);
    }
    throw new Error('could not create a PAT to cache');
  }

  actorRepo(i = 0): string {
    return this.actors[i].repo;
  }

  actorSession(i = 0): string {
    return this.actors[i].session;
  }
}
