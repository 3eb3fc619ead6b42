import type { FastifyRequest } from 'fastify';
import type { Repo } from '#contracts';

/** The repository the guard resolved and authorized for this request. */
export function repoOf(request: FastifyRequest): Repo {
  if (!request.repoGrant) throw new Error('repository route without a repoRole policy');
  return request.repoGrant.repo;
}
