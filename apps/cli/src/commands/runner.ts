import type { Command } from 'commander';
import { RunnerSchema, RunnerTokenSchema } from '#contracts';
import { RunnerAgent } from '../agent/runner-agent';
import { GantryClient } from '../client';
import { normaliseUrl } from '../config';
import { CliError, EXIT } from '../errors';
import { printObject } from '../output';
import { listOption, withJson, type Ctx } from './shared';

export function registerRunner(program: Command, ctx: Ctx): void {
  const runner = program.command('runner').description('turn this machine into a remote runner');
  withJson(
    runner
      .command('register')
      .description('exchange a one-time install token (gti_…) for a runner token, saved in the config file (0600)')
      .option('--url <url>', 'the gateway URL (default: GANTRY_URL, then the config file)')
      .requiredOption('--install-token <gti_…>', 'from `gantry admin install-token create`')
      .requiredOption('--name <name>', "this runner's name")
      .option('--labels <labels>', 'labels beyond the install token\'s (only when it allows them)', listOption),
  ).action(async (options: { url?: string; installToken: string; name: string; labels?: string[]; json?: boolean }) => {
    const context = ctx();
    const url = options.url ? normaliseUrl(options.url) : context.target().url; // target(): --url before the command, GANTRY_URL, config
    const answer = await new GantryClient({ url, token: undefined }).json('POST', '/api/v1/install-tokens/exchange', RunnerTokenSchema, {
      auth: false,
      body: { token: options.installToken, runnerName: options.name, ...(options.labels ? { labels: options.labels } : {}) },
    });
    context.store.update((config) => ({ ...config, runner: { url, token: answer.token, runnerId: answer.runnerId, name: answer.runnerName, labels: answer.labels } }));
    const { token: _secret, ...shown } = answer;
    if (options.json) return printObject(context.io, true, shown);
    context.note(`Registered runner ${answer.runnerName} (${answer.runnerId}) with labels ${answer.labels.join(',') || '(none)'}; start it with \`gantry runner start\`.`);
  });

  runner
    .command('start')
    .description('claim and execute runs until SIGTERM (which lets the current run finish within --stop-grace)')
    .option('--labels <labels>', 'claim only runs matching these of its labels', listOption)
    .option('--stop-grace <seconds>', 'on SIGTERM, how long the current run may go on before it is stopped', '300')
    .option('--kill-grace <ms>', "between SIGTERM and SIGKILL of a stopped step's processes", '5000')
    .option('--heartbeat <ms>', 'heartbeat interval', '10000')
    .action(async (options: { labels?: string[]; stopGrace: string; killGrace: string; heartbeat: string }) => {
      const context = ctx();
      const registration = context.store.read().runner;
      if (!registration) throw new CliError('this machine is not registered: run `gantry runner register` first', EXIT.usage);
      const say = (text: string) => context.note(`${new Date().toISOString()} ${text}`);
      const agent = new RunnerAgent(new GantryClient({ url: registration.url, token: registration.token }), {
        labels: options.labels,
        stopGraceMs: seconds(options.stopGrace) * 1000,
        killGraceMs: number(options.killGrace, '--kill-grace'),
        heartbeatMs: number(options.heartbeat, '--heartbeat'),
        say,
      });
      const stop = (signal: string) => {
        say(`${signal}: stopping`);
        agent.stop();
      };
      const onTerm = () => stop('SIGTERM');
      const onInt = () => stop('SIGINT');
      process.on('SIGTERM', onTerm);
      process.on('SIGINT', onInt);
      say(`runner ${registration.name} (${registration.labels.join(',') || 'no labels'}) waiting for runs at ${registration.url}`);
      try {
        await agent.run();
        say('stopped');
      } finally {
        process.off('SIGTERM', onTerm);
        process.off('SIGINT', onInt);
      }
    });

  withJson(runner.command('status').description('this runner as the gateway knows it')).action(async (options: { json?: boolean }) => {
    const context = ctx();
    const registration = context.store.read().runner;
    if (!registration) throw new CliError('this machine is not registered: run `gantry runner register` first', EXIT.usage);
    const answer = await new GantryClient({ url: registration.url, token: registration.token }).json('GET', '/api/v1/runner', RunnerSchema);
    printObject(context.io, options.json, answer);
  });
}

function number(value: string, name: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0) throw new CliError(`${name}: expected a number, got "${value}"`, EXIT.usage);
  return parsed;
}

const seconds = (value: string) => number(value, '--stop-grace');
