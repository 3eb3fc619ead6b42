import { describe, expect, it } from '@jest/globals';
import { chmodSync, mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeInitialPassword } from './initial-password';

describe('writeInitialPassword', () => {
  it('writes the password for its owner only (0600), creating the directory', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'gantry-pw-')), 'data');
    const path = writeInitialPassword(dir, 'first-secret-123');
    expect(path).toBe(join(dir, 'initial_admin_password'));
    expect(readFileSync(path, 'utf8')).toBe('first-secret-123\n');
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('replaces a file left there (with its loose mode) and does not follow a symlink', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gantry-pw-'));
    writeFileSync(join(dir, 'initial_admin_password'), 'old\n');
    chmodSync(join(dir, 'initial_admin_password'), 0o644);
    writeInitialPassword(dir, 'second-secret-456');
    expect(statSync(join(dir, 'initial_admin_password')).mode & 0o777).toBe(0o600);
    const target = join(dir, 'elsewhere');
    writeFileSync(target, 'untouched\n');
    const linked = mkdtempSync(join(tmpdir(), 'gantry-pw-'));
    symlinkSync(target, join(linked, 'initial_admin_password'));
    writeInitialPassword(linked, 'third-secret-789');
    expect(readFileSync(target, 'utf8')).toBe('untouched\n');
  });

  it('says what to do when it cannot write', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'gantry-pw-')), 'not-a-dir');
    writeFileSync(file, '');
    expect(() => writeInitialPassword(file, 'x-secret-0123')).toThrow(/GANTRY_ADMIN_PASSWORD, or GANTRY_DATA_DIR/);
  });
});
