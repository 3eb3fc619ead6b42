import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { JobSchema, JobSpecSchema, RunSchema, type Run } from '#contracts';
import { repoPath } from '../client';
import type { CliContext } from '../context';
import { CliError, EXIT, ExitWith } from '../errors';
import { execLocal } from '../local-exec';
import { printList, printObject } from '../output';
import { exitCodeOfRun, followRun } from '../run-follow';
import { paramOption, withJson, type Ctx } from './shared';

const RUN_COLUMNS = ['id', 'job', 'number', 'status', 'exitCode', 'reason', 'createdAt'];

/** A job definition from a YAML (or JSON) file, checked against the contract before it is sent. */
export async function readJobFile(file: string): Promise<z.infer<typeof JobSpecSchema>> {
  const text = await readFile(file, 'utf8').catch(() => { throw new CliError(`cannot read ${file}`, EXIT.usage); });
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (error) {
    throw new CliError(`${file}: not YAML: ${(error as Error).message}`, EXIT.usage);
  }
  const result = JobSpecSchema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new CliError(`${file}: ${issue.path.join('.') || '(top)'}: ${issue.message}`, EXIT.usage);
  }
  return result.data;
}

export function registerJobs(program: Command, ctx: Ctx): void {
  const jobs = program.command('jobs').description('CI job definitions');
  withJson(jobs.command('put <owner/repo> <job>').description('create or replace a job from a YAML file').requiredOption('-f, --file <job.yaml>')).action(
    async (fullName: string, job: string, options: { file: string; json?: boolean }) => {
      const context = ctx();
      const spec = await readJobFile(options.file);
      const saved = await context.client().json('PUT', `${repoPath(fullName)}/jobs/${encodeURIComponent(job)}`, JobSchema, { body: spec });
      if (options.json) return printObject(context.io, true, saved);
      context.note(`Job ${saved.repo}/${saved.name} saved.`);
    },
  );
  withJson(jobs.command('list [owner/repo]').description("a repository's jobs (every job you can see without one)")).action(async (fullName: string | undefined, options: { json?: boolean }) => {
    const context = ctx();
    const path = fullName ? `${repoPath(fullName)}/jobs` : '/api/v1/jobs';
    const { items } = await context.client().json('GET', path, z.object({ items: z.array(JobSchema) }));
    printList(context.io, options.json, items.map((job) => ({ ...job, runsOn: job.runsOn === 'local' ? 'local' : job.runsOn.labels.join(','), steps: job.steps.length })), ['repo', 'name', 'runsOn', 'steps', 'updatedAt']);
  });
  withJson(jobs.command('show <owner/repo> <job>')).action(async (fullName: string, job: string, options: { json?: boolean }) => {
    const context = ctx();
    printObject(context.io, options.json, await context.client().json('GET', `${repoPath(fullName)}/jobs/${encodeURIComponent(job)}`, JobSchema));
  });
}

export function registerRuns(program: Command, ctx: Ctx): void {
  const runs = program.command('runs').description('CI runs');
  withJson(
    runs
      .command('start <owner/repo> <job>')
      .description('trigger a run; --watch follows it and exits with its result')
      .option('-p, --param <name=value>', 'a parameter (repeatable)', paramOption, {})
      .option('-w, --watch', 'follow the log until the run ends; exit with its result'),
  ).action(async (fullName: string, job: string, options: { param: Record<string, string>; watch?: boolean; json?: boolean }) => {
    const context = ctx();
    const client = context.client();
    const run = await client.json('POST', `${repoPath(fullName)}/jobs/${encodeURIComponent(job)}/runs`, RunSchema, { body: { params: options.param } });
    if (!options.watch) {
      if (options.json) return printObject(context.io, true, run);
      context.io.stdout.write(`${run.id}\n`);
      context.note(`Run ${run.repo}/${run.job} #${run.number} queued.`);
      return;
    }
    context.note(`Run ${run.repo}/${run.job} #${run.number} (${run.id}) queued; following it.`);
    throw new ExitWith(exitCodeOfRun(await watch(context, run.id)));
  });

  runs
    .command('logs <runId>')
    .description("a run's log (-f: follow it live until the run ends)")
    .option('-f, --follow', 'follow the live log')
    .action(async (runId: string, options: { follow?: boolean }) => {
      const context = ctx();
      if (options.follow) return void (await watch(context, runId));
      const response = await context.client().raw('GET', `/api/v1/runs/${encodeURIComponent(runId)}/log`, { headers: { accept: 'text/plain' } });
      for await (const chunk of response.body) context.io.stdout.write(chunk as Buffer);
    });

  runs.command('cancel <runId>').action(async (runId: string) => {
    const context = ctx();
    await context.client().json('POST', `/api/v1/runs/${encodeURIComponent(runId)}/cancel`);
    context.note(`Cancel requested for ${runId}.`);
  });

  withJson(
    runs
      .command('list <owner/repo>')
      .option('--status <status>')
      .option('--job <job>')
      .option('--limit <n>', 'at most this many (newest first)', '20'),
  ).action(async (fullName: string, options: { status?: string; job?: string; limit: string; json?: boolean }) => {
    const context = ctx();
    const query = new URLSearchParams({ limit: options.limit, ...(options.status ? { status: options.status } : {}), ...(options.job ? { job: options.job } : {}) });
    const { items } = await context.client().json('GET', `${repoPath(fullName)}/runs?${query}`, z.object({ items: z.array(RunSchema), nextCursor: z.string().nullable() }));
    printList(context.io, options.json, items, RUN_COLUMNS);
  });

  withJson(runs.command('show <runId>')).action(async (runId: string, options: { json?: boolean }) => {
    const context = ctx();
    printObject(context.io, options.json, await context.client().json('GET', `/api/v1/runs/${encodeURIComponent(runId)}`, RunSchema));
  });

  runs
    .command('exec <owner/repo> <job>')
    .description("run a job on this machine with your own token as GANTRY_TOKEN (try a pipeline before pushing it)")
    .requiredOption('--local', 'execute here (the only mode)')
    .option('-f, --file <job.yaml>', 'the job definition to try (default: the one on the server)')
    .option('-p, --param <name=value>', 'a parameter (repeatable)', paramOption, {})
    .option('--kill-grace <ms>', 'between SIGTERM and SIGKILL when stopped', '5000')
    .action(async (fullName: string, job: string, options: { file?: string; param: Record<string, string>; killGrace: string }) => {
      const context = ctx();
      throw new ExitWith(await execLocal(context, fullName, job, options));
    });
}

/** Prints the live log to stdout and status changes to stderr; returns the final run. */
async function watch(context: CliContext, runId: string): Promise<Run> {
  let status = '';
  const final = await followRun(context.client(), runId, {
    line: (text) => context.io.stdout.write(`${text}\n`),
    status: (run) => {
      if (run.status === status) return;
      status = run.status;
      context.note(`[run ${run.status}${run.reason ? `: ${run.reason}` : ''}${run.exitCode !== null ? `, exit code ${run.exitCode}` : ''}]`);
    },
  });
  return final;
}
