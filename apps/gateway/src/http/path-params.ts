import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { hooksOf } from './raw-body';
import type { z } from 'zod';
import { GantryError, isStorable, RepoNameSchema, UsernameSchema } from '#contracts';

/**
 * Path parameters the guard reads before any controller pipe runs (it resolves `:owner/:repo` to
 * authorize the request): a value no name can take names nothing.
 */
const NAMES: Record<string, z.ZodType<string>> = { owner: UsernameSchema, repo: RepoNameSchema };

/**
 * Every path parameter, before anything reads it: one PostgreSQL cannot store (NUL, a lone
 * surrogate) or an owner/repository that is no valid name is a 404 `not_found` — the same answer
 * as a name that does not exist, and no service is asked. Controllers check the rest of their
 * parameters' shape with IdParam/ParsedParam. The asset path (`*`) is the assets route's own
 * (400 `invalid_path`).
 */
export function installPathParamCheck(fastify: FastifyInstance): void {
  // Only on routes with parameters: the others pay nothing per request.
  fastify.addHook('onRoute', (route) => {
    if (route.url.includes(':')) route.onRequest = [...hooksOf(route.onRequest), checkParams];
  });
}

function checkParams(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
  const params = request.params as Record<string, string> | null;
  for (const name in params) {
    if (name === '*') continue;
    const value = params[name];
    if (!isStorable(value) || (NAMES[name] !== undefined && !NAMES[name].safeParse(value).success)) {
      // An upload's body (raw-body route) is never read for a refusal: close instead of draining it.
      if (request.rawBody) void reply.header('connection', 'close');
      return done(new GantryError('not_found', 'no such resource'));
    }
  }
  done();
}
