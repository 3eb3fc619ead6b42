import { performance } from 'node:perf_hooks';
import { createPat } from './bench-stack';

interface Sample {
  gateway: number;
  start: number;
  end: number;
  status: number;
}

export interface RevocationResult {
  trials: number;
  /** Revoke response → first 401 seen at gateway B, per trial (ms; ≤ 0 when B refused first). */
  latenciesMs: number[];
  /** 200s at either gateway for requests that began after the revoke response: must be 0. */
  lateAccepts: number;
  requests: number;
}

/** Keeps `loops` requests in flight against one gateway until stopped, recording each. */
function hammer(url: string, token: string, gateway: number, loops: number, samples: Sample[], stopped: () => boolean): Promise<void[]> {
  return Promise.all(
    Array.from({ length: loops }, async () => {
      while (!stopped()) {
        const start = performance.now();
        const response = await fetch(`${url}/api/v1/user`, { headers: { authorization: `Bearer ${token}` } });
        await response.arrayBuffer();
        samples.push({ gateway, start, end: performance.now(), status: response.status });
      }
    }),
  );
}

/**
 * One trial: hammer gateways A and B with a fresh PAT, revoke it through A, keep hammering a little
 * longer, then look at what was accepted after the revoke response.
 */
async function trial(urls: [string, string], session: string, index: number) {
  const pat = await createPat(urls[0], session, `revocation-${index}`);
  const samples: Sample[] = [];
  let stop = false;
  const load = Promise.all([hammer(urls[0], pat.token, 0, 2, samples, () => stop), hammer(urls[1], pat.token, 1, 4, samples, () => stop)]);
  await new Promise((resolve) => setTimeout(resolve, 30)); // both gateways have it cached
  const revoke = await fetch(`${urls[0]}/api/v1/user/tokens/${pat.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${session}` } });
  const revokedAt = performance.now();
  if (revoke.status !== 200) throw new Error(`revoke failed: ${revoke.status}`);
  await new Promise((resolve) => setTimeout(resolve, 60));
  stop = true;
  await load;
  const firstRefusal = samples.filter((s) => s.gateway === 1 && s.status === 401).sort((x, y) => x.end - y.end)[0];
  return {
    latency: firstRefusal ? firstRefusal.end - revokedAt : Number.POSITIVE_INFINITY,
    lateAccepts: samples.filter((s) => s.start > revokedAt && s.status === 200).length,
    requests: samples.length,
  };
}

export async function measureRevocation(urls: [string, string], session: string, trials = 50): Promise<RevocationResult> {
  const result: RevocationResult = { trials, latenciesMs: [], lateAccepts: 0, requests: 0 };
  for (let i = 0; i < trials; i++) {
    const t = await trial(urls, session, i);
    result.latenciesMs.push(t.latency);
    result.lateAccepts += t.lateAccepts;
    result.requests += t.requests;
  }
  return result;
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
