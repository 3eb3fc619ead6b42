import { FAULTS } from './faults';

/**
 * Options of `npm run chaos` (`npm run build && node dist/scripts/chaos/main.js`): the scripted workload
 * against 2 gateways, 2 identity, 2 assets and 2 ci-runners while one fault at a time is injected,
 * then the invariants (README "Reliability"). `--short` is the CI profile, `--soak` the 10-minute
 * steady run with RSS and event-loop lag sampled every second. Exits 1 naming every failed invariant.
 *
 * Flags: --short | --soak; --only=nats-kill9,postgres-restart,… ; --soak-minutes=N;
 * --strict-500 (a 500 during an outage fails: on once the DB outage answers 503);
 * --idempotency=auto|on|off (strict refused-but-applied checks: auto detects Idempotency-Key);
 * --max-slope=MiB/min (soak bound on the V8 heap floor of every Node process, default 1); --keep (keep data and logs).
 */
export interface ChaosOptions {
  profile: 'short' | 'default' | 'soak';
  only: string[];
  soakMinutes: number;
  strict500: boolean;
  idempotency: 'auto' | 'on' | 'off';
  maxSlope: number;
  keep: boolean;
}

export interface Profile {
  actors: number;
  thinkMs: number;
  beforeMs: number;
  holdMs: number;
  afterMs: number;
}

export const PROFILES: Record<ChaosOptions['profile'], Profile> = {
  short: { actors: 4, thinkMs: 20, beforeMs: 1500, holdMs: 3000, afterMs: 2000 },
  default: { actors: 6, thinkMs: 20, beforeMs: 5000, holdMs: 8000, afterMs: 8000 },
  soak: { actors: 3, thinkMs: 50, beforeMs: 0, holdMs: 0, afterMs: 0 },
};

/** Recovery bounds (ms): what "within a bound" means in the invariants. */
export const BOUNDS = { readyz: 30000, drain: 30000, connections: 20000, runs: 45000 };

export function parseArgs(argv: string[]): ChaosOptions {
  const value = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  const idempotency = value('idempotency') ?? process.env.GANTRY_CHAOS_IDEMPOTENCY ?? 'auto';
  if (!['auto', 'on', 'off'].includes(idempotency)) throw new Error(`--idempotency=${idempotency}: auto, on or off`);
  const only = (value('only') ?? '').split(',').filter(Boolean);
  const unknown = only.filter((name) => !FAULTS.some((f) => f.name === name));
  if (unknown.length) throw new Error(`--only: unknown fault ${unknown.join(', ')} (known: ${FAULTS.map((f) => f.name).join(', ')})`);
  return {
    profile: argv.includes('--soak') ? 'soak' : argv.includes('--short') ? 'short' : 'default',
    only,
    soakMinutes: Number(value('soak-minutes') ?? 10),
    strict500: argv.includes('--strict-500') || process.env.GANTRY_CHAOS_STRICT_500 === '1',
    idempotency: idempotency as ChaosOptions['idempotency'],
    maxSlope: Number(value('max-slope') ?? 1),
    keep: argv.includes('--keep'),
  };
}

