import { Controller, Get, Query, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AuditQuerySchema, type AuditQuery } from '#contracts';
import { ZodPipe } from '../http/zod-body.pipe';
import { AuditReader } from './audit-reader';

const NDJSON = 'application/x-ndjson';

/** The audit trail for admins (scope users:admin): a page of JSON, or every match as NDJSON. */
@Controller('/api/v1/audit')
export class AuditController {
  constructor(private readonly reader: AuditReader) {}

  @Get()
  async list(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @Query(new ZodPipe(AuditQuerySchema)) query: AuditQuery): Promise<void> {
    if (!request.headers.accept?.includes(NDJSON)) {
      void reply.header('cache-control', 'no-store').send(await this.reader.page(query));
      return;
    }
    // Streamed: one event a line, up to `until` or the end of the stream as it was when asked.
    const events = this.reader.all(query);
    const first = await events.next(); // a stream that is down is still a 503 envelope, not a broken 200
    reply.raw.writeHead(200, { 'content-type': `${NDJSON}; charset=utf-8`, 'x-request-id': request.id, 'cache-control': 'no-store' });
    try {
      for (let item = first; !item.done && !reply.raw.destroyed; item = await events.next()) {
        if (!reply.raw.write(`${JSON.stringify(item.value)}\n`)) await new Promise((resolve) => reply.raw.once('drain', resolve));
      }
    } finally {
      await events.return(undefined);
      reply.raw.end();
    }
  }
}
