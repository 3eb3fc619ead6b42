import type { Command } from 'commander';
import { z } from 'zod';
import { CreatedInstallTokenSchema, InstallTokenSchema, RunnerSchema, UserSchema, type User } from '#contracts';
import type { CliContext } from '../context';
import { CliError, EXIT } from '../errors';
import { printList, printObject } from '../output';
import { listOption, pickByIdOrName, withJson, type Ctx } from './shared';
import { printSecret } from './tokens';

const UserPage = z.object({ items: z.array(UserSchema), nextCursor: z.string().nullable() });
const USER_COLUMNS = ['username', 'role', 'active', 'displayName', 'id', 'createdAt'];

export function registerAdmin(program: Command, ctx: Ctx): void {
  const admin = program.command('admin').description('instance administration (users:admin, runners:manage)');
  const users = admin.command('users').description('user accounts');
  withJson(users.command('list')).action(async (options: { json?: boolean }) => {
    const context = ctx();
    printList(context.io, options.json, await allUsers(context), USER_COLUMNS);
  });
  withJson(
    users
      .command('create <username>')
      .description('create a user; a password is generated and printed once unless --password-stdin')
      .option('--role <role>', 'member or admin', 'member')
      .option('--display-name <name>')
      .option('--password-stdin', 'read the password from standard input'),
  ).action(async (username: string, options: { role: string; displayName?: string; passwordStdin?: boolean; json?: boolean }) => {
    const context = ctx();
    const password = options.passwordStdin ? (await readStdin(context)).replace(/\r?\n$/, '') : undefined;
    const created = await context.client().json('POST', '/api/v1/users', z.object({ user: UserSchema, generatedPassword: z.string().optional() }), {
      body: { username, role: options.role, ...(options.displayName ? { displayName: options.displayName } : {}), ...(password ? { password } : {}) },
    });
    if (options.json) return printObject(context.io, true, created);
    context.note(`Created ${created.user.username} (${created.user.role}).`);
    if (created.generatedPassword) context.io.stdout.write(`${created.generatedPassword}\n`);
  });
  for (const verb of ['deactivate', 'activate'] as const) {
    users.command(`${verb} <username>`).action(async (username: string) => {
      const context = ctx();
      const user = await findUser(context, username);
      await context.client().json('POST', `/api/v1/users/${user.id}/${verb}`, UserSchema);
      context.note(`${username} ${verb}d.`);
    });
  }
  users
    .command('set-role <username> <role>')
    .description('member or admin')
    .action(async (username: string, role: string) => {
      const context = ctx();
      const user = await findUser(context, username);
      await context.client().json('PATCH', `/api/v1/users/${user.id}`, UserSchema, { body: { role } });
      context.note(`${username} is now ${role}.`);
    });

  const installToken = admin.command('install-token').description('one-time tokens that register remote runners');
  withJson(
    installToken
      .command('create')
      .option('--labels <labels>', 'the runner\'s labels', listOption)
      .option('--description <text>')
      .option('--allow-runner-labels', 'the runner may add labels of its own')
      .option('--raw', 'print only the token'),
  ).action(async (options: { labels?: string[]; description?: string; allowRunnerLabels?: boolean; raw?: boolean; json?: boolean }) => {
    const context = ctx();
    const created = await context.client().json('POST', '/api/v1/install-tokens', CreatedInstallTokenSchema, {
      body: { ...(options.labels ? { labels: options.labels } : {}), ...(options.description ? { description: options.description } : {}), ...(options.allowRunnerLabels ? { allowRunnerLabels: true } : {}) },
    });
    printSecret(context, options, created, created.token);
  });
  withJson(installToken.command('list')).action(async (options: { json?: boolean }) => {
    const context = ctx();
    const { items } = await context.client().json('GET', '/api/v1/install-tokens', z.object({ items: z.array(InstallTokenSchema) }));
    printList(context.io, options.json, items, ['id', 'status', 'labels', 'description', 'expiresAt', 'runnerId']);
  });

  const runners = admin.command('runners').description('registered remote runners');
  withJson(runners.command('list')).action(async (options: { json?: boolean }) => {
    const context = ctx();
    const { items } = await context.client().json('GET', '/api/v1/runners', z.object({ items: z.array(RunnerSchema) }));
    printList(context.io, options.json, items, ['id', 'name', 'labels', 'lastSeenAt', 'revokedAt']);
  });
  runners.command('revoke <idOrName>').action(async (key: string) => {
    const context = ctx();
    const { items } = await context.client().json('GET', '/api/v1/runners', z.object({ items: z.array(RunnerSchema) }));
    const runner = pickByIdOrName(items.filter((item) => item.revokedAt === null || item.id === key), key, 'runner');
    await context.client().json('DELETE', `/api/v1/runners/${runner.id}`, RunnerSchema);
    context.note(`Revoked runner ${runner.name} (${runner.id}).`);
  });
}

async function allUsers(context: CliContext): Promise<User[]> {
  const users: User[] = [];
  let cursor: string | null = null;
  do {
    const query = new URLSearchParams({ limit: '100', ...(cursor ? { cursor } : {}) });
    const page: z.infer<typeof UserPage> = await context.client().json('GET', `/api/v1/users?${query}`, UserPage);
    users.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return users;
}

async function findUser(context: CliContext, username: string): Promise<User> {
  const user = (await allUsers(context)).find((candidate) => candidate.username === username || candidate.id === username);
  if (!user) throw new CliError(`no user "${username}"`, EXIT.notFound);
  return user;
}

async function readStdin(context: CliContext): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of context.io.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  return Buffer.concat(chunks).toString('utf8');
}
