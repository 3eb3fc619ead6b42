import { Command, CommanderError, Option } from 'commander';
import { registerAdmin } from './commands/admin';
import { registerAssets } from './commands/assets';
import { registerAudit } from './commands/audit';
import { registerCompletion } from './commands/completion';
import { registerConfig } from './commands/config';
import { registerJobs, registerRuns } from './commands/ci';
import { registerRepos } from './commands/repos';
import { registerRunner } from './commands/runner';
import { registerSession } from './commands/session';
import { registerTokens } from './commands/tokens';
import { CliContext } from './context';
import type { CliEnv } from './config';
import { CliError, EXIT, ExitWith, messageOf } from './errors';
import type { Io } from './output';

export const CLI_VERSION = '0.1.0';

export function buildProgram(io: Io, env: CliEnv): { program: Command; context: () => CliContext } {
  const program = new Command('gantry');
  let context: CliContext | undefined;
  const ctx = () => (context ??= new CliContext(io, env, program.opts<{ url?: string }>().url));
  program
    .description('Gantry from the command line: credentials, repositories, release assets, CI runs and remote runners.')
    .version(CLI_VERSION, '-V, --version')
    .addOption(new Option('--url <url>', 'the gateway URL (default: GANTRY_URL, then the config file)'))
    .configureOutput({ writeOut: (text) => io.stdout.write(text), writeErr: (text) => io.stderr.write(text) })
    .exitOverride();
  program.addHelpText(
    'after',
    '\nExit codes: 0 ok, 1 error, 2 usage, 3 not authenticated or not allowed, 4 not found;\n'
      + '`runs start --watch` and `runs exec --local` exit with the run\'s result (0 succeeded, the failing step\'s code, 124 timed out, 130 cancelled).\n'
      + 'Config: $XDG_CONFIG_HOME/gantry/config.json (default ~/.config/gantry/config.json, mode 0600); GANTRY_URL and GANTRY_TOKEN override it.',
  );
  registerSession(program, ctx);
  registerConfig(program, ctx);
  registerTokens(program, ctx);
  registerRepos(program, ctx);
  registerAssets(program, ctx);
  registerJobs(program, ctx);
  registerRuns(program, ctx);
  registerRunner(program, ctx);
  registerAdmin(program, ctx);
  registerAudit(program, ctx);
  registerCompletion(program, ctx); // last: it describes the whole tree
  // Every subcommand reports usage errors through the same output and exit override.
  const configure = (command: Command) => {
    for (const sub of command.commands) {
      sub.exitOverride().configureOutput({ writeOut: (text) => io.stdout.write(text), writeErr: (text) => io.stderr.write(text) });
      configure(sub);
    }
  };
  configure(program);
  return { program, context: ctx };
}

/** Runs the CLI; resolves with the process exit code. Never throws. */
export async function runCli(argv: readonly string[], io: Io, env: CliEnv): Promise<number> {
  const { program } = buildProgram(io, env);
  try {
    await program.parseAsync(argv as string[]);
    return EXIT.ok;
  } catch (error) {
    return exitCodeOf(error, io);
  }
}

function exitCodeOf(error: unknown, io: Io): number {
  if (error instanceof ExitWith) return error.code;
  if (error instanceof CommanderError) {
    // Help and version are successes; anything else commander refuses is a usage error (already printed).
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return EXIT.ok;
    if (error.code === 'commander.help') return error.exitCode === 0 ? EXIT.ok : EXIT.usage; // a command group without its subcommand
    if (error.code === 'commander.executeSubCommandAsync') return EXIT.error;
    return EXIT.usage;
  }
  if (error instanceof CliError) {
    io.stderr.write(`gantry: ${oneLine(error.message)}\n`);
    return error.exitCode;
  }
  io.stderr.write(`gantry: ${oneLine(messageOf(error))}\n`);
  return EXIT.error;
}

const oneLine = (text: string) => text.replace(/\s*\n\s*/g, ' ');
