import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { z } from 'zod';
import { hashToken, IdentityRequests, parseToken, RevokeLeakedBodySchema } from '#contracts';
import { RpcClient, type RequestContext } from '#platform';
import { Context } from '../auth/principal';
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
  async revoke(@Body(new ZodPipe(RevokeLeakedBodySchema)) body: z.infer<typeof RevokeLeakedBodySchema>, @Context() context: RequestContext) {
    const hashes = [...new Set(body.tokens.filter((token) => REVOCABLE.has(parseToken(token)?.kind ?? '')).map(hashToken))];
    await this.rpc.request(IdentityRequests.leaked.revoke, { hashes }, context);
    return {};
  }
}
