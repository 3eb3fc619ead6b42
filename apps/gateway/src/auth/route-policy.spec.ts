import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { policyFor, ROUTE_POLICIES } from './route-policy';

describe('route policy table', () => {
  it('every policy is documented in the README matrix', () => {
    const readme = readFileSync('README.md', 'utf8');
    const missing = Object.keys(ROUTE_POLICIES).filter((route) => !readme.includes(`\`${route}\``));
    expect(missing).toEqual([]);
  });

  it('HEAD follows GET; unknown routes have no policy (refused)', () => {
    expect(policyFor('HEAD', '/healthz')).toEqual(policyFor('GET', '/healthz'));
    expect(policyFor('GET', '/api/v1/nope')).toBeUndefined();
    expect(policyFor('GET', undefined)).toBeUndefined();
  });

  it('repository and run routes name a repository role, and only those', () => {
    for (const [route, policy] of Object.entries(ROUTE_POLICIES)) {
      const repoScoped = route.includes('/:owner/:repo') || route.startsWith('GET /api/v1/runs/') || route.startsWith('POST /api/v1/runs/');
      expect([route, Boolean(policy.repoRole)]).toEqual([route, repoScoped]);
      expect([route, policy.repoOf === 'run']).toEqual([route, route.includes('/api/v1/runs/:id')]);
    }
  });
});
