import { Controller, Get, Param, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GantryError } from '#contracts';
import { consoleHeaders } from './security-headers';
import { WebFiles } from './web-files';

const IMMUTABLE = 'public, max-age=31536000, immutable';

/** A browser navigation (it takes HTML) gets redirects; a caller that asks for JSON gets the envelope. */
function wantsHtml(request: FastifyRequest): boolean {
  return (request.headers.accept ?? '').includes('text/html');
}

/**
 * The web console's pages (one single-page app: every page is index.html) and its hashed static
 * files. The global guard resolves the session cookie on page routes without refusing (policy
 * `page`); the decisions about a missing session or role are made here, as redirects.
 */
@Controller()
export class ConsolePagesController {
  constructor(private readonly web: WebFiles) {}

  @Get('/')
  root(@Res() reply: FastifyReply): void {
    void consoleHeaders(reply).redirect('/console', 302);
  }

  @Get('/login')
  login(@Res() reply: FastifyReply): void {
    this.sendIndex(reply);
  }

  @Get('/console')
  home(@Req() request: FastifyRequest, @Res() reply: FastifyReply): void {
    this.page(request, reply, false);
  }

  @Get('/console/*')
  userPage(@Req() request: FastifyRequest, @Res() reply: FastifyReply): void {
    this.page(request, reply, false);
  }

  @Get('/console/admin/*')
  adminPage(@Req() request: FastifyRequest, @Res() reply: FastifyReply): void {
    this.page(request, reply, true);
  }

  @Get('/static/*')
  file(@Param('*') name: string, @Res() reply: FastifyReply): void {
    const file = this.web.static(name);
    if (!file) throw new GantryError('not_found', 'no such file');
    void consoleHeaders(reply).header('content-type', file.type).header('cache-control', IMMUTABLE).send(file.body);
  }

  private page(request: FastifyRequest, reply: FastifyReply, admin: boolean): void {
    const principal = request.principal;
    if (!principal) {
      if (!wantsHtml(request)) throw new GantryError('unauthenticated', 'sign in first: POST /console/login');
      // request.url is this gateway's own path: `next` can only ever name a page of the console.
      return void consoleHeaders(reply).header('cache-control', 'no-store').redirect(`/login?next=${encodeURIComponent(request.url)}`, 302);
    }
    if (admin && principal.role !== 'admin') {
      if (!wantsHtml(request)) throw new GantryError('forbidden', 'this page is for administrators');
      return void consoleHeaders(reply).header('cache-control', 'no-store').redirect('/console?notice=admin_only', 302);
    }
    this.sendIndex(reply);
  }

  private sendIndex(reply: FastifyReply): void {
    if (!this.web.index) throw new GantryError('not_found', 'the web console was not built on this server (npm run build writes dist/web)');
    void consoleHeaders(reply).header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-store').send(this.web.index);
  }
}
