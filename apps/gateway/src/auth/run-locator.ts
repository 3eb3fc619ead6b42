import { Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { CiRequests, GantryError, type Run } from '#contracts';
import { RpcClient } from '#platform';

declare module 'fastify' {
  interface FastifyRequest {
    /** The run of a `/api/v1/runs/:id…` route, fetched by the guard to find its repository. */
    run?: Run;
  }
}

const RunId = z.uuid();

/** Finds the repository of the run a run route names; an id that is not a UUID names nothing. */
@Injectable()
export class RunLocator {
  constructor(private readonly rpc: RpcClient) {}

  async locate(request: FastifyRequest): Promise<{ owner: string; repo: string; repoId: string }> {
    const { id } = request.params as { id: string };
    if (!RunId.safeParse(id).success) throw new GantryError('not_found', 'no such run');
    const run = await this.rpc.request(CiRequests.runs.get, { id });
    request.run = run;
    const [owner, repo] = run.repo.split('/');
    return { owner, repo, repoId: run.repoId };
  }
}
