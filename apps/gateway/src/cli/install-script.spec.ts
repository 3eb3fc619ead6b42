import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { installScript, shellQuote } from './install-script';

describe('the CLI install script', () => {
  it('bakes in the public URL, quoted so that no URL can run code', () => {
    const hostile = "http://x/'; touch /tmp/pwned; echo '";
    expect(execFileSync('sh', ['-c', `printf %s ${shellQuote(hostile)}`], { encoding: 'utf8' })).toBe(hostile);
    expect(installScript('https://gantry.example.com/')).toContain("url=${GANTRY_INSTALL_URL:-'https://gantry.example.com'}");
  });

  it('is valid sh', () => {
    expect(() => execFileSync('sh', ['-n'], { input: installScript('http://localhost:8080') })).not.toThrow();
  });
});
