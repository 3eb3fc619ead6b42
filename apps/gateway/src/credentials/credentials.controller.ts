import { Body, Controller, HttpCode, Post, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { Counter } from 'prom-client';
import { z } from 'zod';
import { hashToken, IdentityRequests, parseToken, RevokeLeakedBodySchema } from '#contracts';
import { RpcClient } from '#platform';
import { requestContextOf } from '../auth/principal';
import { HttpMetrics } from '../http/metrics';
import { ZodPipe } from '../http/zod-body.pipe';

const REVOCABLE = new Set(['pat', 'runner', 'apiKey']);

/**
 * Public leaked-credential revocation (like GitHub's): anyone holding a leaked gtp_/gtr_/gtk_
 * token can kill it. Always 202: the answer never says which tokens existed. Identity records an
 * event only when a credential died; every report is counted here, on the metrics listener.
 */
@Controller('/api/v1/credentials')
export class CredentialsController {
  private readonly reports: Counter<'outcome'>;
  private readonly tokens: Counter<'result'>;

  constructor(
    private readonly rpc: RpcClient,
    metrics: HttpMetrics,
  ) {
    const registers = [metrics.registry];
    this.reports = new Counter({ name: 'gantry_leak_reports_total', help: 'Leaked-credential reports, by whether any credential died', labelNames: ['outcome'], registers });
    this.tokens = new Counter({ name: 'gantry_leak_report_tokens_total', help: 'Tokens in leaked-credential reports: revoked, unmatched (unknown or already dead) or malformed', labelNames: ['result'], registers });
  }

  @Post('revoke')
  @HttpCode(202)
  async revoke(@Body(new ZodPipe(RevokeLeakedBodySchema)) body: z.infer<typeof RevokeLeakedBodySchema>, @Req() request: FastifyRequest) {
    const wellFormed = body.tokens.filter((token) => REVOCABLE.has(parseToken(token)?.kind ?? ''));
    const hashes = [...new Set(wellFormed.map(hashToken))];
    const { revoked = 0 } = await this.rpc.request(IdentityRequests.leaked.revoke, { hashes }, requestContextOf(request));
    this.reports.inc({ outcome: revoked > 0 ? 'revoked' : 'nothing_revoked' });
    this.tokens.inc({ result: 'revoked' }, revoked);
    this.tokens.inc({ result: 'unmatched' }, Math.max(0, wellFormed.length - revoked));
    this.tokens.inc({ result: 'malformed' }, body.tokens.length - wellFormed.length);
    return {};
  }
}
