import { Inject, Injectable } from '@nestjs/common';
import { GantryError, type Job, type JobSpec } from '#contracts';
import { Database, EventStore, type RequestContext, type Tx } from '#platform';
import { CI_CONFIG, type CiConfig } from '../config';
import { decideDeleteJob, decidePutJob, jobStream } from './jobs.decider';

interface JobRow {
  repo_id: string;
  name: string;
  repo: string;
  spec: JobSpec;
  created_at: Date;
  updated_at: Date;
}

export function toJob(row: JobRow): Job {
  const { spec } = row;
  return {
    repoId: row.repo_id, repo: row.repo, name: row.name, steps: spec.steps, env: spec.env ?? {},
    timeoutSeconds: spec.timeoutSeconds ?? 3600, runsOn: spec.runsOn ?? 'local', params: spec.params ?? [],
    createdAt: row.created_at.toISOString(), updatedAt: row.updated_at.toISOString(),
  };
}

/** Job definitions per repository. */
@Injectable()
export class JobsService {
  constructor(
    private readonly db: Database,
    private readonly store: EventStore,
    @Inject(CI_CONFIG) private readonly config: CiConfig,
  ) {}

  async put(repoId: string, repo: string, name: string, spec: JobSpec, context: RequestContext): Promise<{ job: Job; created: boolean }> {
    const created = await this.store.execute(async (tx) => {
      const version = await this.version(tx, repoId, name);
      const exists = await this.find(tx, repoId, name) !== null;
      const events = decidePutJob({ repoId, repo, name, spec, exists, maxTimeoutSeconds: this.config.GANTRY_CI_MAX_TIMEOUT_SECONDS });
      await this.store.append(tx, jobStream(repoId, name), version, events, context);
      return !exists;
    });
    return { job: await this.get(repoId, name), created };
  }

  /** Puts a job only when its definition differs (the jobs file is applied on every start). */
  async putIfChanged(repoId: string, repo: string, name: string, spec: JobSpec, context: RequestContext): Promise<boolean> {
    const current = await this.find(this.db, repoId, name);
    if (current && JSON.stringify(current.spec) === JSON.stringify(spec)) return false;
    await this.put(repoId, repo, name, spec, context);
    return true;
  }

  async get(repoId: string, name: string, tx: Tx = this.db): Promise<Job> {
    const row = await this.find(tx, repoId, name);
    if (!row) throw new GantryError('not_found', `no job ${name}`);
    return toJob(row);
  }

  async list(repoIds: string[]): Promise<{ items: Job[] }> {
    const { rows } = await this.db.query<JobRow>('SELECT * FROM jobs WHERE repo_id = ANY($1::uuid[]) ORDER BY repo, name', [repoIds]);
    return { items: rows.map(toJob) };
  }

  async delete(repoId: string, name: string, context: RequestContext): Promise<void> {
    await this.store.execute(async (tx) => {
      const row = await this.find(tx, repoId, name);
      const events = decideDeleteJob({ repoId, repo: row?.repo ?? '', name, exists: row !== null });
      await this.store.append(tx, jobStream(repoId, name), await this.version(tx, repoId, name), events, context);
    });
  }

  private async find(tx: Tx, repoId: string, name: string): Promise<JobRow | null> {
    const { rows } = await tx.query<JobRow>('SELECT * FROM jobs WHERE repo_id = $1 AND name = $2', [repoId, name]);
    return rows[0] ?? null;
  }

  private async version(tx: Tx, repoId: string, name: string): Promise<number> {
    const { rows } = await tx.query<{ version: number }>('SELECT max(version) AS version FROM events WHERE stream_id = $1', [jobStream(repoId, name)]);
    return rows[0]?.version ?? 0;
  }
}

