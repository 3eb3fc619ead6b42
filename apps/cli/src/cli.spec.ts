import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { runCli } from './cli';
import type { Io } from './output';

/** The CLI in-process, output captured. */
async function gantry(args: string[], env: Record<string, string> = {}) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const io = { stdout, stderr, stdin: new PassThrough() } as unknown as Io;
  const code = await runCli(['node', 'gantry', ...args], io, env);
  return { code, out, err };
}

describe('gantry (in process)', () => {
  it('usage errors exit 2 with one line; help and version exit 0', async () => {
    expect(await gantry(['token', 'create'])).toMatchObject({ code: 2, err: "error: required option '--name <name>' not specified\n" });
    expect(await gantry(['token'])).toMatchObject({ code: 2 });
    expect(await gantry(['--version'])).toMatchObject({ code: 0, out: '0.1.0\n' });
    expect((await gantry(['runs', 'start', '--help'])).code).toBe(0);
  });

  it('config set-url writes the file under XDG_CONFIG_HOME; a corrupt file is one clear error', async () => {
    const home = mkdtempSync(join(tmpdir(), 'gantry-cli-unit-'));
    try {
      expect((await gantry(['config', 'set-url', 'https://g.example.com/'], { XDG_CONFIG_HOME: home })).code).toBe(0);
      expect(await gantry(['config', 'get', 'url'], { XDG_CONFIG_HOME: home })).toMatchObject({ code: 0, out: 'https://g.example.com\n' });
      expect(await gantry(['config', 'get', 'url'], { HOME: home })).toMatchObject({ code: 4 });
      execFileSync('sh', ['-c', `echo '{' > ${join(home, 'gantry', 'config.json')}`]);
      const broken = await gantry(['whoami'], { XDG_CONFIG_HOME: home });
      expect(broken.code).toBe(1);
      expect(broken.err).toMatch(/^gantry: .*config\.json is not a valid gantry config file \(fix or delete it\)\n$/);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('bash completion completes commands and options along the command path', async () => {
    const { code, out } = await gantry(['completion', 'bash']);
    expect(code).toBe(0);
    const complete = (words: string[]) =>
      execFileSync('bash', ['-c', `${out}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _gantry; echo "\${COMPREPLY[*]}"`], { encoding: 'utf8' }).trim();
    expect(complete(['gantry', 'tok'])).toBe('token');
    expect(complete(['gantry', 'runs', 's'])).toBe('start show');
    expect(complete(['gantry', 'runs', 'start', '--w'])).toBe('--watch');
    expect(complete(['gantry', 'admin', 'users', ''])).toBe('list create deactivate activate set-role');
  });
});
