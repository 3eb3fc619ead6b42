import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Api } from '../support/api';
import { CliUser, stderrLines } from '../support/cli';
import { startGantry, type GantryStack } from '../support/gantry-stack';

/** The `gantry` CLI as a person or a script uses it: its bin, spawned, against the real stack. */
describe('gantry CLI', () => {
  let stack: GantryStack;
  let api: Api;
  let admin: CliUser;
  let adminSession: string;
  const scratch = mkdtempSync(join(tmpdir(), 'gantry-cli-e2e-'));
  const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

  beforeAll(async () => {
    stack = await startGantry();
    api = new Api(stack);
    adminSession = await api.login(stack.admin.username, stack.admin.password);
    admin = new CliUser();
    const login = await admin.run(['login', '--url', stack.url, '--username', 'admin', '--password-stdin'], { input: `${stack.admin.password}\n` });
    expect(login).toMatchObject({ code: 0 });
    expect((await admin.run(['repo', 'create', 'tools'])).code).toBe(0);
  });
  afterAll(async () => {
    await stack?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  describe('login', () => {
    it('asks for the password on a terminal without echoing it, stores the session 0600, whoami works', async () => {
      const user = new CliUser();
      const { code, output } = await user.tty(['login', '--url', stack.url, '--username', 'admin'], [{ when: 'Password for admin', send: `${stack.admin.password}\r` }]);
      expect(code).toBe(0);
      expect(output).toContain('Logged in to');
      expect(output).not.toContain(stack.admin.password);
      const file = join(user.configHome, 'gantry', 'config.json');
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ url: stack.url, username: 'admin', token: expect.any(String) });
      const who = await user.run(['whoami']);
      expect(who.code).toBe(0);
      expect(who.stdout.toString()).toContain('admin (admin) via session');

      expect((await user.run(['logout'])).code).toBe(0);
      const after = await user.run(['whoami']);
      expect(after.code).toBe(3);
      expect(stderrLines(after)).toEqual([expect.stringContaining('not logged in')]);
    });

    it('a wrong password on the terminal: one line, exit 3', async () => {
      const user = new CliUser();
      const { code, output } = await user.tty(['login', '--url', stack.url, '--username', 'admin'], [{ when: 'Password for admin', send: 'wrong-password-123\r' }]);
      expect(code).toBe(3);
      expect(output).toMatch(/gantry: invalid_credentials: /);
      expect(output).not.toContain('wrong-password-123');
    });

    it('refuses to prompt without a terminal (usage, exit 2)', async () => {
      const result = await new CliUser().run(['login', '--url', stack.url, '--username', 'admin'], { input: 'x\n' });
      expect(result.code).toBe(2);
      expect(stderrLines(result)).toEqual(['gantry: no terminal to ask for the password: use --password-stdin']);
    });
  });

  describe('tokens', () => {
    it('create --raw → use as GANTRY_TOKEN → list → rotate → revoke (then refused, exit 3)', async () => {
      const created = await admin.run(['token', 'create', '--name', 'cli-test', '--scopes', 'repo:read,tokens:manage', '--expires', '30d', '--raw']);
      expect(created.code).toBe(0);
      const token = created.stdout.toString().trim();
      expect(token).toMatch(/^gtp_[A-Za-z0-9]{36}$/);

      const script = new CliUser({ GANTRY_URL: stack.url, GANTRY_TOKEN: token });
      const who = await script.run(['whoami', '--json']);
      expect(who.code).toBe(0);
      expect(JSON.parse(who.stdout.toString())).toMatchObject({ kind: 'pat', scopes: ['repo:read', 'tokens:manage'] });

      const list = await admin.run(['token', 'list', '--json']);
      const mine = (JSON.parse(list.stdout.toString()) as { name: string; expiresAt: string }[]).find((pat) => pat.name === 'cli-test');
      expect(mine).toBeDefined();
      expect(Date.parse(mine!.expiresAt) - Date.now()).toBeGreaterThan(29 * 86400_000);

      const rotated = await admin.run(['token', 'rotate', 'cli-test', '--raw']);
      expect(rotated.code).toBe(0);
      const fresh = rotated.stdout.toString().trim();
      expect(fresh).not.toBe(token);
      const old = await script.run(['whoami']);
      expect(old.code).toBe(3);
      expect(stderrLines(old)).toEqual([expect.stringMatching(/^gantry: token_revoked: .*\[request .+\]$/)]);

      expect((await admin.run(['token', 'revoke', 'cli-test'])).code).toBe(0);
      const revoked = await new CliUser({ GANTRY_URL: stack.url, GANTRY_TOKEN: fresh }).run(['whoami']);
      expect(revoked.code).toBe(3);
      expect(stderrLines(revoked)).toHaveLength(1);
    });

    it('login --with-token stores a PAT read from stdin', async () => {
      const token = (await admin.run(['token', 'create', '--name', 'stored', '--scopes', 'repo:read', '--raw'])).stdout.toString().trim();
      const user = new CliUser();
      const login = await user.run(['login', '--url', stack.url, '--with-token'], { input: `${token}\n` });
      expect([login.code, login.stderr]).toEqual([0, expect.stringContaining('as admin (token)')]);
      expect(JSON.parse((await user.run(['whoami', '--json'])).stdout.toString())).toMatchObject({ kind: 'pat' });
    });

    it('a PAT cannot mint PATs: one line, exit 3', async () => {
      const token = (await admin.run(['token', 'create', '--name', 'minter', '--scopes', 'tokens:manage', '--raw'])).stdout.toString().trim();
      const result = await new CliUser({ GANTRY_URL: stack.url, GANTRY_TOKEN: token }).run(['token', 'create', '--name', 'x', '--scopes', 'repo:read']);
      expect(result.code).toBe(3);
      expect(stderrLines(result)).toEqual([expect.stringContaining('session_required')]);
    });
  });

  describe('assets', () => {
    it('put from piped stdin, get to piped stdout: byte-identical, sha256 printed, no progress bar', async () => {
      const data = randomBytes(3 * 1024 * 1024 + 17);
      const put = await admin.run(['assets', 'put', 'admin/tools', 'dist/blob.bin'], { input: data });
      expect(put.code).toBe(0);
      expect(put.stdout.toString()).toBe(`dist/blob.bin\t${data.length}\tsha256:${sha256(data)}\n`);
      expect(put.stderr).toBe('');

      const get = await admin.run(['assets', 'get', 'admin/tools', 'dist/blob.bin']);
      expect(get.code).toBe(0);
      expect(get.stdout.equals(data)).toBe(true);
      expect(get.stderr).toBe(`dist/blob.bin: ${data.length} bytes (3.0 MiB), sha256:${sha256(data)} (verified)\n`);
      expect(get.stderr).not.toContain('ETA');

      const ls = await admin.run(['assets', 'ls', 'admin/tools', '--json']);
      expect(JSON.parse(ls.stdout.toString())).toEqual([expect.objectContaining({ path: 'dist/blob.bin', size: data.length, sha256: sha256(data) })]);
    });

    it('files on a terminal: a progress bar with rate and ETA; --quiet none', async () => {
      const data = randomBytes(2 * 1024 * 1024);
      const source = join(scratch, 'up.bin');
      writeFileSync(source, data);
      const put = await admin.tty(['assets', 'put', 'admin/tools', 'tty/up.bin', source]);
      expect(put.code).toBe(0);
      expect(put.output).toMatch(/put tty\/up\.bin \[.*\] 100% \| 2\.0 MiB\/2\.0 MiB \| [\d.]+ [KMG]?i?B\/s \| ETA /);
      const target = join(scratch, 'down.bin');
      const get = await admin.tty(['assets', 'get', 'admin/tools', 'tty/up.bin', target]);
      expect(get.code).toBe(0);
      expect(get.output).toMatch(/get tty\/up\.bin \[.*\] 100% .* ETA /);
      expect(readFileSync(target).equals(data)).toBe(true);
      const quiet = await admin.tty(['assets', 'get', '--quiet', 'admin/tools', 'tty/up.bin', join(scratch, 'quiet.bin')]);
      expect(quiet.code).toBe(0);
      expect(quiet.output).not.toContain('ETA');
      expect(quiet.output.trim()).toBe('');
    });

    it('a repository API key from CI secrets uploads a release asset; members; revoked key → exit 3', async () => {
      const key = await admin.run(['key', 'create', 'admin/tools', '--name', 'release', '--scopes', 'assets:write,repo:read', '--raw']);
      expect(key.code).toBe(0);
      const ciJob = new CliUser({ GANTRY_URL: stack.url, GANTRY_TOKEN: key.stdout.toString().trim() });
      const put = await ciJob.run(['assets', 'put', 'admin/tools', 'releases/v1.0.0/notes.txt', '-', '--content-type', 'text/plain'], { input: 'release notes\n' });
      expect([put.code, put.stdout.toString()]).toEqual([0, expect.stringMatching(/^releases\/v1\.0\.0\/notes\.txt\t14\tsha256:[0-9a-f]{64}\n$/)]);
      expect(JSON.parse((await admin.run(['key', 'list', 'admin/tools', '--json'])).stdout.toString())).toEqual([expect.objectContaining({ name: 'release', revokedAt: null })]);

      await api.user(adminSession, 'rita');
      expect((await admin.run(['repo', 'members', 'set', 'admin/tools', 'rita', '--role', 'read'])).code).toBe(0);
      const members = JSON.parse((await admin.run(['repo', 'members', 'list', 'admin/tools', '--json'])).stdout.toString()) as { username: string; role: string }[];
      expect(members).toEqual(expect.arrayContaining([expect.objectContaining({ username: 'rita', role: 'read' })]));
      expect((await admin.run(['repo', 'members', 'remove', 'admin/tools', 'rita'])).code).toBe(0);

      expect((await admin.run(['key', 'revoke', 'admin/tools', 'release'])).code).toBe(0);
      const refused = await ciJob.run(['assets', 'put', 'admin/tools', 'x.txt'], { input: 'x' });
      expect([refused.code, stderrLines(refused)]).toEqual([3, [expect.stringMatching(/^gantry: token_revoked: /)]]);
    });

    it('rm, then get: not found (exit 4, one line)', async () => {
      await admin.run(['assets', 'put', 'admin/tools', 'gone.txt'], { input: 'bye' });
      expect((await admin.run(['assets', 'rm', 'admin/tools', 'gone.txt'])).code).toBe(0);
      const missing = await admin.run(['assets', 'get', 'admin/tools', 'gone.txt', join(scratch, 'gone.txt')]);
      expect(missing.code).toBe(4);
      expect(stderrLines(missing)).toEqual([expect.stringMatching(/^gantry: asset_not_found: /)]);
    });
  });

  describe('jobs and runs', () => {
    beforeAll(async () => {
      const file = join(scratch, 'jobs.yaml');
      const put = async (name: string, yaml: string) => {
        writeFileSync(file, yaml);
        const result = await admin.run(['jobs', 'put', 'admin/tools', name, '-f', file]);
        expect(result).toMatchObject({ code: 0 });
      };
      await put('ok', 'steps:\n  - run: echo "hello $GANTRY_PARAM_WHO"\n  - run: echo "token=$GANTRY_TOKEN"\nparams:\n  - name: who\n    default: world\n');
      await put('fails', 'steps:\n  - run: echo about to fail; exit 7\n');
      await put('slow', 'steps:\n  - run: echo started; sleep 60\n');
    });

    it('start --watch: the live log on stdout, exit 0 on success; -p sets a parameter', async () => {
      const result = await admin.run(['runs', 'start', 'admin/tools', 'ok', '-p', 'who=cli', '--watch']);
      expect(result.code).toBe(0);
      const out = result.stdout.toString();
      expect(out).toContain('hello cli\n');
      expect(out).toContain('token=***\n');
      expect(out.indexOf('hello cli')).toBeLessThan(out.indexOf('token=***'));
      expect(result.stderr).toContain('[run succeeded');
      const runId = /\(([0-9a-f-]{36})\) queued/.exec(result.stderr)![1];
      const followed = await admin.run(['runs', 'logs', '-f', runId]);
      expect([followed.code, followed.stdout.toString()]).toEqual([0, out]);
    });

    it("start --watch exits with the failing step's code", async () => {
      const result = await admin.run(['runs', 'start', 'admin/tools', 'fails', '--watch']);
      expect(result.code).toBe(7);
      expect(result.stdout.toString()).toContain('about to fail');
      expect(result.stderr).toContain('[run failed: step_failed, exit code 7]');
    });

    it('start --watch exits 130 when the run is cancelled (runs cancel)', async () => {
      const watching = admin.start(['runs', 'start', 'admin/tools', 'slow', '--watch']);
      await watching.waitForOutput('started');
      const runId = /\(([0-9a-f-]{36})\) queued/.exec(watching.stderr)![1];
      expect((await admin.run(['runs', 'cancel', runId])).code).toBe(0);
      expect(await watching.exited).toBe(130);
      const show = await admin.run(['runs', 'show', runId, '--json']);
      expect(JSON.parse(show.stdout.toString())).toMatchObject({ status: 'cancelled' });
      const logs = await admin.run(['runs', 'logs', runId]);
      expect(logs.stdout.toString()).toContain('started\n');
      const list = await admin.run(['runs', 'list', 'admin/tools', '--job', 'slow', '--json']);
      expect(JSON.parse(list.stdout.toString())[0]).toMatchObject({ id: runId, status: 'cancelled' });
    });

    it('runs exec --local: the job on this machine with the user\'s token, same executor semantics', async () => {
      const token = (await admin.run(['token', 'create', '--name', 'local-exec', '--scopes', 'repo:read', '--raw'])).stdout.toString().trim();
      const user = new CliUser({ GANTRY_URL: stack.url, GANTRY_TOKEN: token, LEAK_ME: 'from-the-shell' });
      const file = join(scratch, 'local.yaml');
      // JSON is YAML too; the file is checked against the job contract before anything runs.
      writeFileSync(file, JSON.stringify({
        steps: [
          { run: 'echo "repo=$GANTRY_REPO job=$GANTRY_JOB leak=${LEAK_ME:-unset} token=$GANTRY_TOKEN"' },
          { run: 'curl -sf -H "authorization: Bearer $GANTRY_TOKEN" "$GANTRY_URL/api/v1/user" | grep -o \'"kind":"pat"\'' },
          { run: 'exit 5' },
          { run: 'echo never' },
        ],
      }));
      const result = await user.run(['runs', 'exec', 'admin/tools', 'trial', '--local', '-f', file]);
      expect(result.code).toBe(5);
      const out = result.stdout.toString();
      expect(out).toContain('repo=admin/tools job=trial leak=unset token=***\n');
      expect(out).toContain('"kind":"pat"\n');
      expect(out).toContain('[gantry] step 3 exited with code 5');
      expect(out).not.toContain('never');
      expect(out).not.toContain(token);
    });
  });

  it('runs exec --local: Ctrl-C (SIGINT) stops the step\'s process group and exits 130', async () => {
    const file = join(scratch, 'sleepy.yaml');
    writeFileSync(file, 'steps:\n  - run: echo sleeping; sleep 60\n');
    const running = admin.start(['runs', 'exec', 'admin/tools', 'sleepy', '--local', '-f', file, '--kill-grace', '500']);
    await running.waitForOutput('sleeping');
    running.signal('SIGINT');
    expect(await running.exited).toBe(130);
    expect(running.stdout).toContain('[gantry] run cancelled');
    expect(running.stderr).toContain('[local run cancelled: cancelled]');
  });

  describe('admin and audit', () => {
    it('users create/list/set-role/deactivate/activate, install tokens, runners list', async () => {
      const created = await admin.run(['admin', 'users', 'create', 'dana']);
      expect(created.code).toBe(0);
      const password = created.stdout.toString().trim();
      expect(password.length).toBeGreaterThanOrEqual(12);
      expect((await admin.run(['admin', 'users', 'set-role', 'dana', 'admin'])).code).toBe(0);
      expect((await admin.run(['admin', 'users', 'deactivate', 'dana'])).code).toBe(0);
      const list = JSON.parse((await admin.run(['admin', 'users', 'list', '--json'])).stdout.toString()) as { username: string; role: string; active: boolean }[];
      expect(list.find((user) => user.username === 'dana')).toMatchObject({ role: 'admin', active: false });
      expect((await admin.run(['admin', 'users', 'activate', 'dana'])).code).toBe(0);
      const install = await admin.run(['admin', 'install-token', 'create', '--labels', 'linux,x64', '--raw']);
      expect(install.stdout.toString().trim()).toMatch(/^gti_/);
      expect((await admin.run(['admin', 'runners', 'list', '--json'])).code).toBe(0);
    });

    it('audit tail shows recent events by type', async () => {
      const result = await admin.run(['audit', 'tail', '--type', 'identity.user.*', '--json', '-n', '50']);
      expect(result.code).toBe(0);
      const events = result.stdout.toString().trim().split('\n').map((line) => JSON.parse(line) as { type: string });
      expect(events.map((event) => event.type)).toEqual(expect.arrayContaining(['identity.user.created', 'identity.user.deactivated']));
      const text = await admin.run(['audit', 'tail', '--type', 'identity.user.created', '-n', '1']);
      expect(text.stdout.toString()).toMatch(/identity\.user\.created\s+user:admin\s+user:/);
    });

    it('audit tail --follow prints new events as they happen', async () => {
      const following = admin.start(['audit', 'tail', '--type', 'identity.repo.created', '--follow', '--interval', '200', '-n', '0']);
      try {
        await new Promise((resolve) => setTimeout(resolve, 500));
        await api.post('/api/v1/repos', adminSession, { name: 'followed', visibility: 'private' });
        await following.waitForOutput('identity.repo.created');
      } finally {
        await following.stop();
      }
    });
  });

  describe('errors: one line on stderr, documented exit codes', () => {
    const cases: [string, () => CliUser, string[], number, RegExp][] = [
      ['unknown command', () => admin, ['frobnicate'], 2, /^error: unknown command 'frobnicate'$/],
      ['missing option', () => admin, ['token', 'create', '--name', 'x'], 2, /required option '--scopes <scopes>' not specified/],
      ['bad parameter', () => admin, ['runs', 'start', 'admin/tools', 'ok', '-p', 'novalue'], 2, /^gantry: -p: expected name=value/],
      ['bad expiry', () => admin, ['token', 'create', '--name', 'x', '--scopes', 'repo:read', '--expires', 'soon'], 2, /^gantry: --expires: /],
      ['server says 400', () => admin, ['token', 'create', '--name', 'x', '--scopes', 'repo:nope'], 2, /^gantry: invalid_request: /],
      ['not logged in', () => new CliUser({ GANTRY_URL: 'http://127.0.0.1:9' }), ['repo', 'list'], 3, /^gantry: not logged in/],
      ['bad --url', () => new CliUser({ GANTRY_TOKEN: 'gtp_nonsense' }), ['repo', 'list', '--url', 'x'], 2, /^gantry: not a URL: x$/],
      ['no such repository', () => admin, ['repo', 'show', 'admin/nope'], 4, /^gantry: not_found: /],
      ['no such token', () => admin, ['token', 'revoke', 'nope'], 4, /^gantry: no token "nope"$/],
      ['gateway unreachable', () => new CliUser({ GANTRY_URL: 'http://127.0.0.1:9', GANTRY_TOKEN: 'x' }), ['repo', 'list'], 1, /^gantry: cannot reach http:\/\/127\.0\.0\.1:9: ECONNREFUSED/],
      ['no url at all', () => new CliUser(), ['repo', 'list'], 2, /^gantry: no server URL/],
      ['owner/repo expected', () => admin, ['repo', 'show', 'justone'], 2, /^gantry: expected owner\/repo/],
      ['unreadable job file', () => admin, ['jobs', 'put', 'admin/tools', 'x', '-f', '/nonexistent/job.yaml'], 2, /^gantry: cannot read \/nonexistent\/job\.yaml$/],
      ['invalid job file', () => admin, ['runs', 'exec', 'admin/tools', 'x', '--local', '-f', '/etc/hostname'], 2, /^gantry: \/etc\/hostname: \(top\): /],
    ];
    it.each(cases)('%s', async (_name, who, args, code, line) => {
      const result = await who().run(args);
      expect([result.code, stderrLines(result)]).toEqual([code, [expect.stringMatching(line)]]);
    });

    it('a bad token is refused (exit 3), a member is forbidden admin routes (exit 3)', async () => {
      const bad = await new CliUser({ GANTRY_URL: stack.url, GANTRY_TOKEN: 'gtp_000000000000000000000000000000000000' }).run(['whoami']);
      expect([bad.code, stderrLines(bad)]).toEqual([3, [expect.stringMatching(/^gantry: invalid_token: /)]]);
      const member = await api.user(adminSession, 'mona');
      const cli = new CliUser();
      await cli.run(['login', '--url', stack.url, '-u', 'mona', '--password-stdin'], { input: member.password });
      const refused = await cli.run(['admin', 'users', 'list']);
      expect([refused.code, stderrLines(refused)]).toEqual([3, [expect.stringMatching(/^gantry: forbidden: /)]]);
    });

    it('--help everywhere exits 0', async () => {
      for (const args of [['--help'], ['assets', '--help'], ['runs', 'start', '--help'], ['runner', 'register', '--help']]) {
        const result = await admin.run(args);
        expect([args.join(' '), result.code]).toEqual([args.join(' '), 0]);
        expect(result.stdout.toString()).toContain('Usage: gantry');
      }
    });
  });

  describe('distribution', () => {
    it('GET /cli/install.sh | sh installs the CLI from the gateway into a prefix and sets the server URL', async () => {
      const prefix = mkdtempSync(join(tmpdir(), 'gantry-prefix-'));
      const home = mkdtempSync(join(tmpdir(), 'gantry-home-'));
      try {
        const download = await fetch(`${stack.url}/cli/download`);
        expect(download.status).toBe(200);
        const tarball = Buffer.from(await download.arrayBuffer());
        expect(download.headers.get('x-checksum-sha256')).toBe(sha256(tarball));
        const script = await fetch(`${stack.url}/cli/install.sh`);
        expect(script.headers.get('content-type')).toContain('text/x-shellscript');
        const text = await script.text();
        expect(text).toContain(`url=\${GANTRY_INSTALL_URL:-'${stack.url}'}`);

        const env = { PATH: process.env.PATH!, HOME: home, XDG_CONFIG_HOME: join(home, '.config'), GANTRY_PREFIX: prefix, npm_config_cache: join(home, '.npm'), npm_config_offline: 'true' };
        const { spawnSync } = await import('node:child_process');
        const install = spawnSync('sh', ['-c', `curl -fsSL ${stack.url}/cli/install.sh | sh`], { env, encoding: 'utf8', timeout: 120000 });
        expect([install.status, install.stderr]).toEqual([0, expect.any(String)]);
        expect(install.stdout).toContain(`gantry installed at ${prefix}/bin/gantry`);
        const version = spawnSync(join(prefix, 'bin', 'gantry'), ['config', 'get', 'url'], { env, encoding: 'utf8' });
        expect([version.status, version.stdout.trim()]).toEqual([0, stack.url]);
        const who = spawnSync(join(prefix, 'bin', 'gantry'), ['login', '-u', 'admin', '--password-stdin'], { env, input: stack.admin.password, encoding: 'utf8' });
        expect([who.status, who.stderr]).toEqual([0, expect.stringContaining('Logged in')]);
        // The package carries the executor too: a local trial works from the installed CLI alone.
        const job = join(home, 'job.yaml');
        writeFileSync(job, 'steps:\n  - run: echo "installed $GANTRY_JOB"\n');
        const trial = spawnSync(join(prefix, 'bin', 'gantry'), ['runs', 'exec', 'admin/tools', 'trial', '--local', '-f', job], { env, encoding: 'utf8' });
        expect([trial.status, trial.stdout]).toEqual([0, expect.stringContaining('installed trial\n')]);
      } finally {
        rmSync(prefix, { recursive: true, force: true });
        rmSync(home, { recursive: true, force: true });
      }
    });
  });
});
