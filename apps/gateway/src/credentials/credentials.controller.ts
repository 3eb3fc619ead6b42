import { Body, Controller, HttpCode, Post, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { hashToken, IdentityRequests, parseToken, RevokeLeakedBodySchema } from '#contracts';
import { RpcClient } from '#platform';
import { requestContextOf } from '../auth/principal';
import { ZodPipe } from '../http/zod-body.pipe';

const REVOCABLE = new Set(['pat', 'runner', 'apiKey']);

/**
 * Public leaked-credential revocation (like GitHub's): anyone holding a leaked gtp_/gtr_/gtk_
 * token can kill it. Always 202: the answer never says which tokens existed.
 */
@Controller('/api/v1/credentials')
export class CredentialsController {
  constructor(private readonly rpc: RpcClient) {}

  @Post('revoke')
  @HttpCode(202)
  async revoke(@Body(new ZodPipe(RevokeLeakedBodySchema)) body: z.infer<typeof RevokeLeakedBodySchema>, @Req() request: FastifyRequest) {
    const hashes = [...new Set(body.tokens.filter((token) => REVOCABLE.has(parseToken(token)?.kind ?? '')).map(hashToken))];
    await this.rpc.request(IdentityRequests.leaked.revoke, { hashes }, requestContextOf(request));
    return {};
  }
}
