import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const INITIAL_PASSWORD_FILE = 'initial_admin_password';

/**
 * Writes the generated first-admin password to `<dataDir>/initial_admin_password`, readable by its
 * owner only (0600, as GitLab does), and returns the path. Never through the log: logs are shipped,
 * kept and read by more people than the operator. A file already there is replaced, not followed
 * (it could be a symlink planted by someone else).
 */
export function writeInitialPassword(dataDir: string, password: string): string {
  const path = join(dataDir, INITIAL_PASSWORD_FILE);
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    rmSync(path, { force: true });
    writeFileSync(path, `${password}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    throw new Error(
      `cannot write the generated admin password to ${path} (${(error as Error).message}): set GANTRY_ADMIN_PASSWORD, or GANTRY_DATA_DIR to a directory identity can write`,
      { cause: error },
    );
  }
  return path;
}
