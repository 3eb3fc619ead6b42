import { Controller, Delete, Get, Query, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { AdminTokensQuerySchema, IdentityRequests } from '#contracts';
import { RpcClient } from '#platform';
import { requestContextOf } from '../auth/principal';
import { IdParam } from '../http/params';
import { ZodPipe } from '../http/zod-body.pipe';

/** Instance admins: every user's personal access tokens. */
@Controller('/api/v1/admin/tokens')
export class AdminTokensController {
  constructor(private readonly rpc: RpcClient) {}

  @Get()
  list(@Query(new ZodPipe(AdminTokensQuerySchema)) query: z.infer<typeof AdminTokensQuerySchema>) {
    return this.rpc.request(IdentityRequests.pats.list, { userId: query.userId ?? null });
  }

  @Delete(':id')
  revoke(@IdParam() tokenId: string, @Req() request: FastifyRequest) {
    return this.rpc.request(IdentityRequests.pats.revoke, { userId: null, tokenId }, requestContextOf(request));
  }
}
