import type { Command } from 'commander';
import { createInterface } from 'node:readline/promises';
import password from '@inquirer/password';
import { LoginResponseSchema, WhoAmISchema } from '#contracts';
import { GantryClient } from '../client';
import { normaliseUrl } from '../config';
import { CliError, EXIT } from '../errors';
import { printObject } from '../output';
import { withJson, type Ctx } from './shared';

export function registerSession(program: Command, ctx: Ctx): void {
  program
    .command('login')
    .description('sign in (hidden password prompt) and store the session in the config file')
    .option('--url <url>', 'the gateway URL (stored in the config file)')
    .option('-u, --username <name>', 'who signs in (asked when omitted)')
    .option('--password-stdin', 'read the password from standard input (scripts)')
    .option('--with-token', 'store a personal access token read from standard input instead of signing in')
    .action(async (options: { url?: string; username?: string; passwordStdin?: boolean; withToken?: boolean }) => {
      const context = ctx();
      const config = context.store.read();
      const url = normaliseUrl(options.url ?? context.urlOption ?? context.env.GANTRY_URL ?? config.url ?? missingUrl());
      if (options.withToken) {
        const token = (await readAll(context.io.stdin)).trim();
        const who = await new GantryClient({ url, token }).json('GET', '/api/v1/user', WhoAmISchema);
        context.store.write({ ...config, url, token, username: who.user?.username, expiresAt: who.expiresAt });
        context.note(`Logged in to ${url} as ${who.user?.username ?? who.kind} (token).`);
        return;
      }
      const username = options.username ?? (await ask(context, 'Username: '));
      let secret: string;
      if (options.passwordStdin) secret = (await readAll(context.io.stdin)).replace(/\r?\n$/, '');
      else if (!context.io.stdin.isTTY) throw new CliError('no terminal to ask for the password: use --password-stdin', EXIT.usage);
      else secret = await password({ message: `Password for ${username}:` }, { input: context.io.stdin, output: context.io.stderr });
      const answer = await new GantryClient({ url, token: undefined }).json('POST', '/api/v1/auth/login', LoginResponseSchema, { auth: false, body: { username, password: secret } });
      context.store.write({ ...config, url, token: answer.token, username: answer.user.username, expiresAt: answer.expiresAt });
      context.note(`Logged in to ${url} as ${answer.user.username} (${answer.user.role}); the session lasts until ${answer.expiresAt}.`);
    });

  program
    .command('logout')
    .description('end the stored session and forget it')
    .action(async () => {
      const context = ctx();
      const config = context.store.read();
      if (!config.token) {
        context.note('Not logged in.');
        return;
      }
      // A session (JWT) is ended on the server; a stored token is only forgotten (revoke it with `token revoke`).
      if (config.token.split('.').length === 3 && config.url) {
        await new GantryClient({ url: config.url, token: config.token })
          .json('POST', '/api/v1/auth/logout')
          .catch((error: unknown) => {
            if (!(error instanceof CliError) || error.exitCode !== EXIT.auth) throw error; // already over: forget it anyway
          });
      }
      const { token: _token, username: _username, expiresAt: _expiresAt, ...rest } = config;
      context.store.write(rest);
      context.note('Logged out.');
    });

  withJson(program.command('whoami').description('who the stored (or GANTRY_TOKEN) credential is')).action(async (options: { json?: boolean }) => {
    const context = ctx();
    const who = await context.client().json('GET', '/api/v1/user', WhoAmISchema);
    if (options.json) return printObject(context.io, true, who);
    const name = who.user ? `${who.user.username} (${who.user.role})` : who.kind;
    context.io.stdout.write(`${name} via ${who.kind} at ${context.target().url}\nscopes: ${who.scopes.join(' ')}\n`);
  });
}

function missingUrl(): never {
  throw new CliError('no server URL: pass --url (or set GANTRY_URL)', EXIT.usage);
}

async function ask(context: ReturnType<Ctx>, question: string): Promise<string> {
  if (!context.io.stdin.isTTY) throw new CliError('no terminal to ask for the username: use --username', EXIT.usage);
  const rl = createInterface({ input: context.io.stdin, output: context.io.stderr, terminal: true });
  try {
    return (await rl.question(question)).trim();
  } finally {
    rl.close();
  }
}

export async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  return Buffer.concat(chunks).toString('utf8');
}
