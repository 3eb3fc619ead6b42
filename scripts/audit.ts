import { jetstream } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { parseArgs } from 'node:util';
import { Database, republishChain, verifyPublishedChain, verifyStoredChain, type ChainRange, type ChainReport } from '#platform';
import { readStackFile } from '../libs/platform/src/launcher/stack-file';

/**
 * `npm run audit:verify -- --service identity [--from N] [--to M] [--source postgres|jetstream|both]`
 * `npm run audit:republish -- --service identity --from N [--to M]`
 *
 * Finds the stack through `$GANTRY_DATA_DIR/stack.json` (`npm run dev`; `--stack DIR`), or from
 * GANTRY_NATS_URL / GANTRY_NATS_USER / GANTRY_NATS_PASSWORD and GANTRY_DATABASE_URL (a role that
 * can read the service's schema). Exit 0: the range verified; 1: a bad event (named); 2: bad usage.
 */
const SCHEMA_OF: Record<string, string> = { identity: 'identity', 'ci-runner': 'ci', assets: 'assets' };

const USAGE = `usage: audit.js verify|republish --service ${Object.keys(SCHEMA_OF).join('|')} [--from N] [--to M] [--source postgres|jetstream|both] [--stack DIR]`;

interface Target {
  natsUrl: string;
  natsAuth: { user: string; pass: string } | Record<string, never>;
  databaseUrl: string;
}

function targetFrom(stackDir: string | undefined): Target {
  const stack = readStackFile(stackDir ?? process.env.GANTRY_DATA_DIR ?? '.gantry');
  if (stack) return { natsUrl: stack.nats.url, natsAuth: stack.nats.credentials, databaseUrl: stack.postgres.url };
  const { GANTRY_NATS_URL, GANTRY_NATS_USER, GANTRY_NATS_PASSWORD, GANTRY_DATABASE_URL } = process.env;
  if (!GANTRY_NATS_URL || !GANTRY_DATABASE_URL) throw new UsageError('no stack.json found: set GANTRY_NATS_URL and GANTRY_DATABASE_URL (or --stack DIR)');
  return { natsUrl: GANTRY_NATS_URL, natsAuth: GANTRY_NATS_USER ? { user: GANTRY_NATS_USER, pass: GANTRY_NATS_PASSWORD ?? '' } : {}, databaseUrl: GANTRY_DATABASE_URL };
}

class UsageError extends Error {}

function seqOption(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[1-9][0-9]{0,15}$/.test(value)) throw new UsageError(`--${name} must be a positive integer`);
  return Number(value);
}

function describe(report: ChainReport): string {
  const where = `${report.service} (${report.source})`;
  if (report.problem) return `${where}: FIRST BAD EVENT after ${report.checked} good: ${report.problem.kind}: ${report.problem.detail}`;
  if (report.checked === 0) return `${where}: no chained events in the range`;
  return `${where}: seq ${report.first}–${report.last} verified (${report.checked} events)`;
}

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { service: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, source: { type: 'string', default: 'both' }, stack: { type: 'string' } },
  });
  const command = positionals[0];
  const service = values.service ?? '';
  if ((command !== 'verify' && command !== 'republish') || !(service in SCHEMA_OF)) throw new UsageError(USAGE);
  if (!['postgres', 'jetstream', 'both'].includes(values.source!)) throw new UsageError(USAGE);
  const range: ChainRange = { from: seqOption(values.from, 'from'), to: seqOption(values.to, 'to') };
  if (command === 'republish' && range.from === undefined) throw new UsageError('republish needs --from (the first seq to send again)');

  const target = targetFrom(values.stack);
  const db = new Database({ url: target.databaseUrl, schema: SCHEMA_OF[service], poolSize: 2, applicationName: 'gantry-audit' });
  let nc: NatsConnection | null = null;
  try {
    nc = await connect({ servers: target.natsUrl, name: 'gantry-audit', ...target.natsAuth });
    if (command === 'republish') {
      const report = await republishChain(db, jetstream(nc), service, range);
      console.log(`${service}: re-published ${report.sent} events (${report.duplicates} were still on EVENTS and were dropped as duplicates)`);
      return 0;
    }
    const reports: ChainReport[] = [];
    if (values.source !== 'jetstream') reports.push(await verifyStoredChain(db, service, range));
    if (values.source !== 'postgres') reports.push(await verifyPublishedChain(nc, service, range));
    for (const report of reports) console.log(describe(report));
    return reports.some((report) => report.problem) ? 1 : 0;
  } finally {
    await nc?.close();
    await db.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof UsageError ? error.message : error);
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);
