import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { CliError, EXIT } from './errors';

/** What `~/.config/gantry/config.json` holds (mode 0600). */
export const ConfigFileSchema = z.object({
  url: z.string().optional(),
  /** A session JWT from `gantry login`, or a PAT saved with `gantry login --token`. */
  token: z.string().optional(),
  username: z.string().optional(),
  expiresAt: z.string().nullable().optional(),
  /** The remote runner agent's registration (`gantry runner register`). */
  runner: z
    .object({ url: z.string(), token: z.string(), runnerId: z.string(), name: z.string(), labels: z.array(z.string()) })
    .optional(),
});
export type ConfigFile = z.infer<typeof ConfigFileSchema>;

/** The environment the CLI reads: only these (the step environment of a run sets them). */
export interface CliEnv {
  GANTRY_URL?: string;
  GANTRY_TOKEN?: string;
  XDG_CONFIG_HOME?: string;
  HOME?: string;
}

export function configPath(env: CliEnv): string {
  const base = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.length > 0 ? env.XDG_CONFIG_HOME : join(env.HOME ?? homedir(), '.config');
  return join(base, 'gantry', 'config.json');
}

export class ConfigStore {
  constructor(readonly path: string) {}

  read(): ConfigFile {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw new CliError(`cannot read ${this.path}: ${(error as Error).message}`);
    }
    try {
      return ConfigFileSchema.parse(JSON.parse(text));
    } catch {
      throw new CliError(`${this.path} is not a valid gantry config file (fix or delete it)`);
    }
  }

  /** Writes atomically with mode 0600 (the file holds credentials). */
  write(config: ConfigFile): void {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    const temp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(temp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
    chmodSync(temp, 0o600);
    renameSync(temp, this.path);
  }

  update(change: (config: ConfigFile) => ConfigFile): ConfigFile {
    const next = change(this.read());
    this.write(next);
    return next;
  }
}

/** Where to talk to and as whom: `--url`, then GANTRY_URL / GANTRY_TOKEN, then the config file. */
export interface Target {
  url: string;
  token: string | undefined;
}

export function resolveTarget(store: ConfigStore, env: CliEnv, urlOption?: string): Target {
  const config = store.read();
  const url = urlOption ?? nonEmpty(env.GANTRY_URL) ?? config.url;
  if (!url) throw new CliError('no server URL: run `gantry login --url <url>` or set GANTRY_URL', EXIT.usage);
  return { url: normaliseUrl(url), token: nonEmpty(env.GANTRY_TOKEN) ?? config.token };
}

export function normaliseUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CliError(`not a URL: ${url}`, EXIT.usage);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new CliError(`not an http(s) URL: ${url}`, EXIT.usage);
  return url.replace(/\/+$/, '');
}

const nonEmpty = (value: string | undefined) => (value && value.length > 0 ? value : undefined);
