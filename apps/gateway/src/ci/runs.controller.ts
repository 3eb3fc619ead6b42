import { Body, Controller, Get, HttpCode, Inject, Post, Query, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { CiRequests, JobNameSchema, RunListQuerySchema, TriggerRunBodySchema, type Run } from '#contracts';
import { RpcClient } from '#platform';
import { requestContextOf } from '../auth/principal';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config';
import { ParsedParam } from '../http/params';
import { ZodPipe } from '../http/zod-body.pipe';
import { repoOf } from '../repos/repo-of';
import { RunEventStream } from './run-event-stream';
import { RunLiveHub } from './run-live-hub';
import { lastEventIdOf } from './sse';

const Runs = CiRequests.runs;

/** The run the guard fetched to authorize a `/api/v1/runs/:id…` route. */
function runOf(request: FastifyRequest): Run {
  if (!request.run) throw new Error('run route without a repoOf: run policy');
  return request.run;
}

/** Triggering, listing, reading, following and cancelling runs. */
@Controller('/api/v1')
export class RunsController {
  constructor(
    private readonly rpc: RpcClient,
    private readonly hub: RunLiveHub,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  @Post('repos/:owner/:repo/jobs/:job/runs')
  trigger(@Req() request: FastifyRequest, @ParsedParam('job', JobNameSchema) job: string, @Body(new ZodPipe(TriggerRunBodySchema)) body: z.infer<typeof TriggerRunBodySchema>) {
    const repo = repoOf(request);
    return this.rpc.request(Runs.trigger, { repoId: repo.id, repo: repo.fullName, job, params: body.params ?? {} }, requestContextOf(request));
  }

  @Get('repos/:owner/:repo/runs')
  list(@Req() request: FastifyRequest, @Query(new ZodPipe(RunListQuerySchema)) query: z.infer<typeof RunListQuerySchema>) {
    return this.rpc.request(Runs.list, { ...query, repoId: repoOf(request).id });
  }

  @Get('runs/:id')
  get(@Req() request: FastifyRequest) {
    return runOf(request);
  }

  @Post('runs/:id/cancel')
  @HttpCode(202)
  cancel(@Req() request: FastifyRequest) {
    return this.rpc.request(Runs.cancel, { id: runOf(request).id }, requestContextOf(request));
  }

  /** The stored log so far, as plain text, streamed page by page. */
  @Get('runs/:id/log')
  async log(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const run = runOf(request);
    let page = await this.rpc.request(Runs.log, { id: run.id, afterSeq: 0, limit: 5000 });
    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'x-request-id': request.id, 'cache-control': 'no-store' });
    while (page.lines.length > 0 && !reply.raw.destroyed) {
      if (!reply.raw.write(page.lines.map((line) => `${line.text}\n`).join(''))) await new Promise((resolve) => reply.raw.once('drain', resolve));
      page = await this.rpc.request(Runs.log, { id: run.id, afterSeq: page.lines[page.lines.length - 1].seq, limit: 5000 });
    }
    reply.raw.end();
  }

  /** Server-Sent Events: `status` and `log` events, resumable with Last-Event-ID. */
  @Get('runs/:id/events')
  async events(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const run = runOf(request);
    const stream = new RunEventStream(
      reply.raw,
      { page: (afterSeq, limit) => this.rpc.request(Runs.log, { id: run.id, afterSeq, limit }), run: () => this.rpc.request(Runs.get, { id: run.id }) },
      lastEventIdOf(request.headers['last-event-id']),
      this.config.GANTRY_SSE_HEARTBEAT_MS,
    );
    const unwatch = this.hub.watch(run.id, stream);
    try {
      await this.hub.flush(); // subscribed before the first read: nothing published later is missed
      reply.hijack();
      reply.raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform',
        'x-accel-buffering': 'no', connection: 'keep-alive', 'x-request-id': request.id,
      });
      await stream.pump();
    } catch {
      reply.raw.destroy(); // the client reconnects with Last-Event-ID
    } finally {
      unwatch();
    }
  }
}
