import { Body, Controller, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { CiRequests, ClaimBodySchema, GantryError, IdentityRequests, RunnerFinishBodySchema, RunnerLogBodySchema } from '#contracts';
import { RpcClient } from '#platform';
import { principalOf, requestContextOf } from '../auth/principal';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config';
import { IdParam } from '../http/params';
import { ZodPipe } from '../http/zod-body.pipe';
import { ClaimWaiter } from './claim-waiter';

const Api = CiRequests.runner;

/** The runner API's run routes, for runner tokens: claim (long poll), log, finish. */
@Controller('/api/v1/runner/runs')
export class RunnerRunsController {
  constructor(
    private readonly rpc: RpcClient,
    private readonly waiter: ClaimWaiter,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  /** 200 with a run whose labels this runner has, or 204 after GANTRY_RUNNER_CLAIM_WAIT_MS. */
  @Post('claim')
  @HttpCode(200)
  async claim(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @Body(new ZodPipe(ClaimBodySchema)) body: z.infer<typeof ClaimBodySchema>) {
    const principal = principalOf(request);
    const runner = await this.rpc.request(IdentityRequests.runners.get, { id: principal.credentialId });
    const missing = (body.labels ?? []).filter((label) => !runner.labels.includes(label));
    if (missing.length > 0) throw new GantryError('forbidden', `this runner does not have the label(s): ${missing.join(', ')}`, 'labels');
    const claim = { runnerId: runner.id, runnerName: runner.name, labels: body.labels ?? runner.labels };
    const deadline = Date.now() + this.config.GANTRY_RUNNER_CLAIM_WAIT_MS;
    for (;;) {
      const woken = this.waiter.next(); // armed before the attempt: a run queued during it wakes us
      if (request.raw.socket?.destroyed) return undefined; // the runner left: take nothing for it
      const { run } = await this.rpc.request(Api.claim, claim, requestContextOf(request));
      if (run) return run;
      if (!(await woken.until(deadline))) {
        void reply.status(204);
        return undefined;
      }
    }
  }

  @Post(':id/log')
  @HttpCode(200)
  log(@Req() request: FastifyRequest, @IdParam() runId: string, @Body(new ZodPipe(RunnerLogBodySchema)) body: z.infer<typeof RunnerLogBodySchema>) {
    return this.rpc.request(Api.log, { runnerId: principalOf(request).credentialId, runId, lines: body.lines });
  }

  @Post(':id/finish')
  @HttpCode(200)
  finish(@Req() request: FastifyRequest, @IdParam() runId: string, @Body(new ZodPipe(RunnerFinishBodySchema)) body: z.infer<typeof RunnerFinishBodySchema>) {
    return this.rpc.request(Api.finish, { runnerId: principalOf(request).credentialId, runId, ...body }, requestContextOf(request));
  }
}
