import type { Command } from 'commander';
import { z } from 'zod';
import { CreatedPatSchema, PatSchema, type Pat } from '#contracts';
import type { CliContext } from '../context';
import { printList, printObject } from '../output';
import { listOption, parseExpiry, pickByIdOrName, withJson, type Ctx } from './shared';

const PatList = z.object({ items: z.array(PatSchema) });
const COLUMNS = ['id', 'name', 'prefix', 'scopes', 'expiresAt', 'lastUsedAt', 'revokedAt'];

/** A created credential: the secret alone with --raw (for scripts), else the record and a warning. */
export function printSecret(context: CliContext, options: { raw?: boolean; json?: boolean }, record: Record<string, unknown>, secret: string): void {
  if (options.raw) return void context.io.stdout.write(`${secret}\n`);
  printObject(context.io, options.json, record);
  if (!options.json) context.note('Copy the token now: it is not shown again.');
}

export function registerTokens(program: Command, ctx: Ctx): void {
  const token = program.command('token').description('personal access tokens');
  withJson(
    token
      .command('create')
      .description('create a personal access token (needs a login session)')
      .requiredOption('--name <name>', 'what it is for')
      .requiredOption('--scopes <scopes>', 'comma-separated: repo:read, repo:write, assets:write, runs:write, tokens:manage, users:admin, runners:manage', listOption)
      .option('--expires <when>', 'lifetime: 90d, 12w, 1y or never', '90d')
      .option('--raw', 'print only the token'),
  ).action(async (options: { name: string; scopes: string[]; expires: string; raw?: boolean; json?: boolean }) => {
    const context = ctx();
    const created = await context.client().json('POST', '/api/v1/user/tokens', CreatedPatSchema, {
      body: { name: options.name, scopes: options.scopes, expiresInDays: parseExpiry(options.expires) },
    });
    printSecret(context, options, created, created.token);
  });

  withJson(token.command('list').description('your tokens')).action(async (options: { json?: boolean }) => {
    const context = ctx();
    const { items } = await context.client().json('GET', '/api/v1/user/tokens', PatList);
    printList(context.io, options.json, items, COLUMNS);
  });

  withJson(token.command('revoke <idOrName>').description('revoke a token (by id or name)')).action(async (key: string, options: { json?: boolean }) => {
    const context = ctx();
    const pat = await findPat(context, key);
    const revoked = await context.client().json('DELETE', `/api/v1/user/tokens/${pat.id}`, PatSchema);
    if (options.json) return printObject(context.io, true, revoked);
    context.note(`Revoked ${revoked.name} (${revoked.id}).`);
  });

  withJson(token.command('rotate <idOrName>').description('replace a token with a new one (same name, scopes and expiry)').option('--raw', 'print only the new token')).action(
    async (key: string, options: { raw?: boolean; json?: boolean }) => {
      const context = ctx();
      const pat = await findPat(context, key);
      const created = await context.client().json('POST', `/api/v1/user/tokens/${pat.id}/rotate`, CreatedPatSchema);
      printSecret(context, options, created, created.token);
    },
  );
}

/** By id, or by the name of a token that is not revoked. */
async function findPat(context: CliContext, key: string): Promise<Pat> {
  const { items } = await context.client().json('GET', '/api/v1/user/tokens', PatList);
  const live = items.filter((item) => item.revokedAt === null || item.id === key);
  return pickByIdOrName(live, key, 'token');
}
