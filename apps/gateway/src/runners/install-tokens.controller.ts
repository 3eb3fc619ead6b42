import { Body, Controller, Delete, Get, HttpCode, Post, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { CreateInstallTokenBodySchema, ExchangeBodySchema, GantryError, hashToken, IdentityRequests, parseToken } from '#contracts';
import { RpcClient } from '#platform';
import { requestContextOf } from '../auth/principal';
import { IdParam } from '../http/params';
import { ZodPipe } from '../http/zod-body.pipe';

const R = IdentityRequests.runners;

@Controller('/api/v1/install-tokens')
export class InstallTokensController {
  constructor(private readonly rpc: RpcClient) {}

  @Post()
  mint(@Body(new ZodPipe(CreateInstallTokenBodySchema)) body: z.infer<typeof CreateInstallTokenBodySchema>, @Req() request: FastifyRequest) {
    return this.rpc.request(R.mintInstallToken, body, requestContextOf(request));
  }

  @Get()
  list() {
    return this.rpc.request(R.listInstallTokens, {});
  }

  @Delete(':id')
  cancel(@IdParam() id: string, @Req() request: FastifyRequest) {
    return this.rpc.request(R.cancelInstallToken, { id }, requestContextOf(request));
  }

  /** Public: the install token is the credential. Only its hash goes to identity. */
  @Post('exchange')
  @HttpCode(200)
  exchange(@Body(new ZodPipe(ExchangeBodySchema)) body: z.infer<typeof ExchangeBodySchema>, @Req() request: FastifyRequest) {
    if (parseToken(body.token)?.kind !== 'install') throw new GantryError('invalid_request', 'token: not an install token (gti_…) or bad checksum', 'token');
    return this.rpc.request(R.exchange, { hash: hashToken(body.token), runnerName: body.runnerName, labels: body.labels ?? [] }, requestContextOf(request));
  }
}
