import type { Command } from 'commander';
import { z } from 'zod';
import { ApiKeySchema, CreatedApiKeySchema, MemberSchema, RepoSchema } from '#contracts';
import { repoPath } from '../client';
import { printList, printObject } from '../output';
import { listOption, parseExpiry, pickByIdOrName, withJson, type Ctx } from './shared';
import { printSecret } from './tokens';

const REPO_COLUMNS = ['fullName', 'visibility', 'description', 'createdAt'];

export function registerRepos(program: Command, ctx: Ctx): void {
  const repo = program.command('repo').description('repositories and their members');
  withJson(
    repo
      .command('create <name>')
      .description('create a repository owned by you')
      .option('--public', 'readable by everyone signed in (and its assets by anyone)')
      .option('--description <text>'),
  ).action(async (name: string, options: { public?: boolean; description?: string; json?: boolean }) => {
    const context = ctx();
    const created = await context.client().json('POST', '/api/v1/repos', RepoSchema, {
      body: { name, visibility: options.public ? 'public' : 'private', ...(options.description ? { description: options.description } : {}) },
    });
    if (options.json) return printObject(context.io, true, created);
    context.io.stdout.write(`${created.fullName}\n`);
  });
  withJson(repo.command('list').description('repositories you can see')).action(async (options: { json?: boolean }) => {
    const context = ctx();
    const { items } = await context.client().json('GET', '/api/v1/repos', z.object({ items: z.array(RepoSchema) }));
    printList(context.io, options.json, items, REPO_COLUMNS);
  });
  withJson(repo.command('show <owner/repo>').description('one repository')).action(async (fullName: string, options: { json?: boolean }) => {
    const context = ctx();
    printObject(context.io, options.json, await context.client().json('GET', repoPath(fullName), RepoSchema));
  });

  const members = repo.command('members').description('who may read, write or administer a repository');
  withJson(members.command('list <owner/repo>')).action(async (fullName: string, options: { json?: boolean }) => {
    const context = ctx();
    const answer = await context.client().json('GET', `${repoPath(fullName)}/members`, z.object({ items: z.array(MemberSchema) }));
    printList(context.io, options.json, answer.items, ['username', 'role', 'userId']);
  });
  members
    .command('set <owner/repo> <username>')
    .description('add a member or change their role')
    .requiredOption('--role <role>', 'read, write or admin')
    .action(async (fullName: string, username: string, options: { role: string }) => {
      const context = ctx();
      await context.client().json('PUT', `${repoPath(fullName)}/members/${encodeURIComponent(username)}`, undefined, { body: { role: options.role } });
      context.note(`${username} is now ${options.role} on ${fullName}.`);
    });
  members.command('remove <owner/repo> <username>').action(async (fullName: string, username: string) => {
    const context = ctx();
    await context.client().json('DELETE', `${repoPath(fullName)}/members/${encodeURIComponent(username)}`);
    context.note(`${username} removed from ${fullName}.`);
  });

  const key = program.command('key').description("a repository's API keys (for CI systems and scripts)");
  withJson(
    key
      .command('create <owner/repo>')
      .requiredOption('--name <name>')
      .requiredOption('--scopes <scopes>', 'comma-separated: repo:read, assets:write, runs:write', listOption)
      .option('--expires <when>', 'lifetime: 90d, 12w, 1y or never', 'never')
      .option('--raw', 'print only the key'),
  ).action(async (fullName: string, options: { name: string; scopes: string[]; expires: string; raw?: boolean; json?: boolean }) => {
    const context = ctx();
    const days = parseExpiry(options.expires);
    const created = await context.client().json('POST', `${repoPath(fullName)}/keys`, CreatedApiKeySchema, {
      body: { name: options.name, scopes: options.scopes, ...(days !== null ? { expiresInDays: days } : {}) },
    });
    const { key: _legacy, ...record } = created;
    printSecret(context, options, record, created.token);
  });
  withJson(key.command('list <owner/repo>')).action(async (fullName: string, options: { json?: boolean }) => {
    const context = ctx();
    const { items } = await context.client().json('GET', `${repoPath(fullName)}/keys`, z.object({ items: z.array(ApiKeySchema) }));
    printList(context.io, options.json, items, ['id', 'name', 'prefix', 'scopes', 'expiresAt', 'lastUsedAt', 'revokedAt']);
  });
  key.command('revoke <owner/repo> <idOrName>').action(async (fullName: string, idOrName: string) => {
    const context = ctx();
    const { items } = await context.client().json('GET', `${repoPath(fullName)}/keys`, z.object({ items: z.array(ApiKeySchema) }));
    const found = pickByIdOrName(items.filter((item) => item.revokedAt === null || item.id === idOrName), idOrName, 'key');
    await context.client().json('DELETE', `${repoPath(fullName)}/keys/${found.id}`);
    context.note(`Revoked key ${found.name} (${found.id}).`);
  });
}
