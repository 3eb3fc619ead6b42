import type { Command } from 'commander';
import type { CliContext } from '../context';
import { CliError, EXIT } from '../errors';

export type Ctx = () => CliContext;

/** `--json` on a list or show command. */
export const withJson = (command: Command) => command.option('--json', 'print JSON instead of a table');

/** `a,b c` → `['a','b','c']` (commas or repeated options). */
export function listOption(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').map((part) => part.trim()).filter((part) => part.length > 0)];
}

/** `90d`, `12w`, `1y` or `never` → days (null: no expiry). */
export function parseExpiry(value: string): number | null {
  if (value === 'never' || value === 'none') return null;
  const match = /^(\d{1,4})([dwy]?)$/.exec(value);
  if (!match) throw new CliError(`--expires: expected e.g. 90d, 12w, 1y or never, got "${value}"`, EXIT.usage);
  const days = Number(match[1]) * ({ '': 1, d: 1, w: 7, y: 365 } as const)[match[2] as '' | 'd' | 'w' | 'y'];
  return days;
}

/** `-p k=v` (repeatable) → `{k: v}`. */
export function paramOption(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const at = value.indexOf('=');
  if (at <= 0) throw new CliError(`-p: expected name=value, got "${value}"`, EXIT.usage);
  return { ...previous, [value.slice(0, at)]: value.slice(at + 1) };
}

/** Finds one item by id or by name; a name matching several is ambiguous. */
export function pickByIdOrName<T extends { id: string; name: string }>(items: readonly T[], key: string, what: string): T {
  const byId = items.find((item) => item.id === key);
  if (byId) return byId;
  const byName = items.filter((item) => item.name === key);
  if (byName.length === 1) return byName[0];
  if (byName.length > 1) throw new CliError(`several ${what}s are named "${key}": use the id`, EXIT.usage);
  throw new CliError(`no ${what} "${key}"`, EXIT.notFound);
}
