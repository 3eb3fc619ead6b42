import { GantryClient } from './client';
import { configPath, ConfigStore, resolveTarget, type CliEnv, type Target } from './config';
import type { Io } from './output';

/** What every command gets: where to write, the environment, the config file, and a client. */
export class CliContext {
  readonly store: ConfigStore;

  constructor(
    readonly io: Io,
    readonly env: CliEnv,
    /** `--url` given before the command (global option). */
    readonly urlOption?: string,
  ) {
    this.store = new ConfigStore(configPath(env));
  }

  target(urlOption?: string): Target {
    return resolveTarget(this.store, this.env, urlOption ?? this.urlOption);
  }

  client(urlOption?: string): GantryClient {
    return new GantryClient(this.target(urlOption));
  }

  /** A line for the person at the terminal (never on stdout, which carries data). */
  note(text: string): void {
    this.io.stderr.write(`${text}\n`);
  }
}
