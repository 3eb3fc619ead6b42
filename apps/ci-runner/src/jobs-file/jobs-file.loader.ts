import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';
import { GantryError, IdentityRequests, SYSTEM_ACTOR } from '#contracts';
import { LOGGER, RpcClient } from '#platform';
import { JobsService } from '../jobs/jobs.service';
import type { JobsFileEntry } from './jobs-file';

export const JOBS_FILE_ENTRIES = Symbol('JOBS_FILE_ENTRIES');

const RETRY_MS = 2000;

/**
 * Puts the jobs of GANTRY_JOBS_FILE (parsed and validated before the service started) once identity
 * can say which repositories they belong to. Unchanged jobs are left alone, so a restart adds no
 * events. A repository that does not exist yet is reported once and looked for again every few
 * seconds until it does (a fresh installation creates its repositories after the services start).
 */
@Injectable()
export class JobsFileLoader implements OnApplicationBootstrap, OnApplicationShutdown {
  private stopped = false;
  private retry: NodeJS.Timeout | null = null;
  private readonly reported = new Set<JobsFileEntry>();

  constructor(
    @Inject(JOBS_FILE_ENTRIES) private readonly entries: JobsFileEntry[],
    private readonly jobs: JobsService,
    private readonly rpc: RpcClient,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    if (this.entries.length > 0) void this.apply(this.entries);
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
  }

  private async apply(entries: JobsFileEntry[]): Promise<void> {
    const pending: JobsFileEntry[] = [];
    for (const entry of entries) {
      if (this.stopped) return;
      try {
        await this.put(entry);
      } catch (error) {
        pending.push(entry); // no such repository yet, or identity / the database not reachable yet
        if (!this.reported.has(entry)) {
          this.reported.add(entry);
          const missing = error instanceof GantryError && error.code === 'not_found';
          this.logger.warn({ repo: entry.repo, job: entry.name, err: String(error) }, missing ? 'jobs file: no such repository yet; will look again' : 'jobs file: could not put the job yet; will retry');
        }
      }
    }
    if (pending.length > 0 && !this.stopped) this.retry = setTimeout(() => void this.apply(pending), RETRY_MS);
  }

  private async put(entry: JobsFileEntry): Promise<void> {
    const [owner, name] = entry.repo.split('/');
    const caller = { userId: null, instanceAdmin: true, boundRepoId: null };
    const { repo } = await this.rpc.request(IdentityRequests.repos.access, { owner, name, caller });
    const context = { requestId: null, actor: SYSTEM_ACTOR, ip: null };
    if (await this.jobs.putIfChanged(repo.id, repo.fullName, entry.name, entry.spec, context)) {
      this.logger.info({ repo: entry.repo, job: entry.name }, 'jobs file: job put');
    }
  }
}
