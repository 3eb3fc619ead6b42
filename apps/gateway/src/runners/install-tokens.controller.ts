import { Body, Controller, Delete, Get, HttpCode, Post } from '@nestjs/common';
import { z } from 'zod';
import { CreateInstallTokenBodySchema, ExchangeBodySchema, GantryError, hashToken, IdentityRequests, parseToken } from '#contracts';
import { RpcClient, type RequestContext } from '#platform';
import { Context } from '../auth/principal';
import { IdParam } from '../http/params';
import { ZodPipe } from '../http/zod-body.pipe';

const R = IdentityRequests.runners;

@Controller('/api/v1/install-tokens')
export class InstallTokensController {
  constructor(private readonly rpc: RpcClient) {}

  @Post()
  mint(@Body(new ZodPipe(CreateInstallTokenBodySchema)) body: z.infer<typeof CreateInstallTokenBodySchema>, @Context() context: RequestContext) {
    return this.rpc.request(R.mintInstallToken, body, context);
  }

  @Get()
  list() {
    return this.rpc.request(R.listInstallTokens, {});
  }

  @Delete(':id')
  cancel(@IdParam() id: string, @Context() context: RequestContext) {
    return this.rpc.request(R.cancelInstallToken, { id }, context);
  }

  /** Public: the install token is the credential. Only its hash goes to identity. */
  @Post('exchange')
  @HttpCode(200)
  exchange(@Body(new ZodPipe(ExchangeBodySchema)) body: z.infer<typeof ExchangeBodySchema>, @Context() context: RequestContext) {
    if (parseToken(body.token)?.kind !== 'install') throw new GantryError('invalid_request', 'token: not an install token (gti_…) or bad checksum', 'token');
    return this.rpc.request(R.exchange, { hash: hashToken(body.token), runnerName: body.runnerName, labels: body.labels ?? [] }, context);
  }
}
