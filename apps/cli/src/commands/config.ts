import type { Command } from 'commander';
import { normaliseUrl } from '../config';
import { CliError, EXIT } from '../errors';
import type { Ctx } from './shared';

export function registerConfig(program: Command, ctx: Ctx): void {
  const config = program.command('config').description('the config file (url; credentials are set by login and runner register)');
  config
    .command('set-url <url>')
    .description('set the gateway URL')
    .action((url: string) => {
      const context = ctx();
      context.store.update((current) => ({ ...current, url: normaliseUrl(url) }));
      context.note(`Server URL set to ${normaliseUrl(url)} in ${context.store.path}.`);
    });
  config
    .command('get <key>')
    .description('print a setting: url or path')
    .action((key: string) => {
      const context = ctx();
      if (key === 'path') return void context.io.stdout.write(`${context.store.path}\n`);
      if (key !== 'url') throw new CliError(`unknown setting "${key}" (url, path)`, EXIT.usage);
      const url = context.store.read().url;
      if (!url) throw new CliError('no server URL is set', EXIT.notFound);
      context.io.stdout.write(`${url}\n`);
    });
}
