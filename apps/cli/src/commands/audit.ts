import type { Command } from 'commander';
import { setTimeout as sleep } from 'node:timers/promises';
import { AuditPageSchema, type AuditPage } from '#contracts';
import type { CliContext } from '../context';
import { CliError, EXIT } from '../errors';
import { withJson, type Ctx } from './shared';

type Envelope = AuditPage['items'][number];

interface TailOptions {
  type?: string;
  service?: string;
  actor?: string;
  subject?: string;
  since: string;
  lines: string;
  follow?: boolean;
  interval: string;
  json?: boolean;
}

export function registerAudit(program: Command, ctx: Ctx): void {
  const audit = program.command('audit').description('the audit trail (users:admin)');
  withJson(
    audit
      .command('tail')
      .description('the latest events, oldest first (--follow: keep printing new ones)')
      .option('--type <type>', 'an event type (identity.pat.created) or prefix (identity.pat.*)')
      .option('--service <service>', 'identity, ci-runner, assets or gateway')
      .option('--actor <idOrName>')
      .option('--subject <kind:id>')
      .option('--since <when>', 'ISO time, or 30m, 6h, 2d ago (default 24h)', '24h')
      .option('-n, --lines <n>', 'how many of the latest to print first', '20')
      .option('-f, --follow', 'keep polling for new events')
      .option('--interval <ms>', 'poll interval with --follow', '1000'),
  ).action(async (options: TailOptions) => {
    const context = ctx();
    const lines = Number(options.lines);
    if (!Number.isInteger(lines) || lines < 0) throw new CliError(`--lines: expected a number, got "${options.lines}"`, EXIT.usage);
    const print = (event: Envelope) => context.io.stdout.write(options.json ? `${JSON.stringify(event)}\n` : `${format(event)}\n`);
    let since = sinceOf(options.since);
    const seen = new Set<string>();
    const backlog = await readAll(context, options, since);
    for (const event of backlog.slice(Math.max(0, backlog.length - lines))) print(event);
    if (!options.follow) return;
    ({ since } = advance(backlog, since, seen));
    for (;;) {
      await sleep(Number(options.interval));
      const fresh = (await readAll(context, options, since)).filter((event) => !seen.has(event.id));
      for (const event of fresh) print(event);
      ({ since } = advance(fresh, since, seen));
    }
  });
}

/** Every match from `since` to the end of the stream, following the cursor. */
async function readAll(context: CliContext, options: TailOptions, since: string): Promise<Envelope[]> {
  const events: Envelope[] = [];
  let cursor: string | null = null;
  do {
    const query = new URLSearchParams({ since, limit: '500' });
    for (const key of ['type', 'service', 'actor', 'subject'] as const) if (options[key]) query.set(key, options[key] as string);
    if (cursor) query.set('cursor', cursor);
    const page: AuditPage = await context.client().json('GET', `/api/v1/audit?${query}`, AuditPageSchema);
    events.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return events;
}

/** The next poll starts at the newest time seen; ids at that time are remembered to skip them. */
function advance(events: readonly Envelope[], since: string, seen: Set<string>): { since: string } {
  if (events.length === 0) return { since };
  const newest = events.reduce((latest, event) => (event.occurredAt > latest ? event.occurredAt : latest), since);
  if (newest !== since) seen.clear();
  for (const event of events) if (event.occurredAt === newest) seen.add(event.id);
  return { since: newest };
}

function format(event: Envelope): string {
  const actor = event.actor ? `${event.actor.kind}:${event.actor.name ?? event.actor.id}` : '-';
  const subject = event.subject ? `${event.subject.kind}:${event.subject.id}` : '-';
  return `${event.occurredAt}  ${event.type.padEnd(36)}  ${actor}  ${subject}`;
}

function sinceOf(value: string): string {
  const relative = /^(\d+)([smhd])$/.exec(value);
  if (relative) {
    const ms = Number(relative[1]) * { s: 1000, m: 60000, h: 3600000, d: 86400000 }[relative[2] as 's' | 'm' | 'h' | 'd'];
    return new Date(Date.now() - ms).toISOString();
  }
  if (Number.isNaN(Date.parse(value))) throw new CliError(`--since: expected an ISO time or e.g. 30m, 6h, 2d, got "${value}"`, EXIT.usage);
  return new Date(value).toISOString();
}
