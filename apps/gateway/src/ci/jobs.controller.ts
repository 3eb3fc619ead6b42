import { Body, Controller, Delete, Get, HttpCode, Put, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CiRequests, IdentityRequests, JobNameSchema, JobSpecSchema, type JobSpec } from '#contracts';
import { RpcClient } from '#platform';
import { principalOf, requestContextOf } from '../auth/principal';
import { repoOf } from '../repos/repo-of';
import { ZodPipe } from '../http/zod-body.pipe';
import { ParsedParam } from '../http/params';

const Jobs = CiRequests.jobs;
const JobName = (invalid: 'not_found' | 'invalid_request' = 'not_found') => ParsedParam('job', JobNameSchema, invalid);

/** Job definitions per repository, and the one-call overview of every job the caller can see. */
@Controller('/api/v1')
export class JobsController {
  constructor(private readonly rpc: RpcClient) {}

  @Get('jobs')
  async all(@Req() request: FastifyRequest) {
    const principal = principalOf(request);
    const caller = { userId: principal.userId, instanceAdmin: principal.role === 'admin', boundRepoId: null };
    const repos = await this.rpc.request(IdentityRequests.repos.list, { caller });
    return this.rpc.request(Jobs.list, { repoIds: repos.items.map((repo) => repo.id) });
  }

  @Get('repos/:owner/:repo/jobs')
  list(@Req() request: FastifyRequest) {
    return this.rpc.request(Jobs.list, { repoIds: [repoOf(request).id] });
  }

  @Get('repos/:owner/:repo/jobs/:job')
  get(@Req() request: FastifyRequest, @JobName() name: string) {
    return this.rpc.request(Jobs.get, { repoId: repoOf(request).id, name });
  }

  /** 201 when created, 200 when it replaced the job. */
  @Put('repos/:owner/:repo/jobs/:job')
  async put(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @JobName('invalid_request') name: string, @Body(new ZodPipe(JobSpecSchema)) spec: JobSpec) {
    const repo = repoOf(request);
    const { job, created } = await this.rpc.request(Jobs.put, { repoId: repo.id, repo: repo.fullName, name, spec }, requestContextOf(request));
    void reply.status(created ? 201 : 200);
    return job;
  }

  @Delete('repos/:owner/:repo/jobs/:job')
  @HttpCode(204)
  async delete(@Req() request: FastifyRequest, @JobName() name: string): Promise<void> {
    await this.rpc.request(Jobs.delete, { repoId: repoOf(request).id, name }, requestContextOf(request));
  }
}
