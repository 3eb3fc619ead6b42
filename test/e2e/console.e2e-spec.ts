import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { Api } from '../support/api';
import { call, login, startGantry, type GantryStack } from '../support/gantry-stack';

/** Debian's Chromium (`apt-get install -y chromium`), driven by playwright-core: no browser download. */
const CHROMIUM = process.env.GANTRY_CHROMIUM ?? '/usr/bin/chromium';
/**
 * A screenshot of every page, to look at after a run. Into an untracked folder by default (a test
 * run must not change the checkout); `GANTRY_SCREENSHOTS=docs/screenshots` refreshes the README's.
 */
const SHOTS = join(process.cwd(), process.env.GANTRY_SCREENSHOTS ?? join('test-results', 'screenshots'));

/**
 * Issue #13, first slice: the web console served by the gateway, in a real browser against the
 * real stack. Sign-in through @nestjs/passport (cookie session), tokens, users, the redirect rules,
 * CSRF refusals and deactivation ending an open console. Every page visited is photographed.
 */
describe('web console in Chromium', () => {
  let stack: GantryStack;
  let api: Api;
  let admin: string;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    stack = await startGantry();
    api = new Api(stack);
    admin = await login(stack);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  const url = (path: string) => `${stack.url}${path}`;
  const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`) });
  async function newPage(): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    contexts.push(context);
    return { context, page: await context.newPage() };
  }
  async function signIn(page: Page, username: string, password: string, path = '/login'): Promise<void> {
    await page.goto(url(path));
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((at) => at.pathname.startsWith('/console'));
  }
  async function cookiesOf(context: BrowserContext): Promise<{ session: string; csrf: string; header: string }> {
    const cookies = await context.cookies(stack.url);
    const session = cookies.find((c) => c.name === 'gantry_session')?.value ?? '';
    const csrf = cookies.find((c) => c.name === 'gantry_csrf')?.value ?? '';
    return { session, csrf, header: `gantry_session=${session}; gantry_csrf=${csrf}` };
  }
  const html = { accept: 'text/html,application/xhtml+xml' };
  const noRedirect = (path: string, headers: Record<string, string>) => fetch(url(path), { headers, redirect: 'manual' });

  it('a browser navigation without a session → 302 /login?next=…; JSON and /api/* → 401 JSON', async () => {
    const home = await noRedirect('/console/admin/users?tab=all', html);
    expect(home.status).toBe(302);
    expect(home.headers.get('location')).toBe(`/login?next=${encodeURIComponent('/console/admin/users?tab=all')}`);
    const asJson = await noRedirect('/console', { accept: 'application/json' });
    expect(asJson.status).toBe(401);
    expect(((await asJson.json()) as { error: { code: string } }).error.code).toBe('unauthenticated');
    const apiHtml = await noRedirect('/api/v1/user', html);
    expect(apiHtml.status).toBe(401);
    expect(apiHtml.headers.get('content-type')).toMatch(/^application\/json/);
    const root = await noRedirect('/', html);
    expect([root.status, root.headers.get('location')]).toEqual([302, '/console']);
  });

  it('console responses carry a strict CSP and friends; hashed files are long-cached, index.html is not', async () => {
    const page = await fetch(url('/login'));
    expect(page.status).toBe(200);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('referrer-policy')).toBe('same-origin');
    expect(page.headers.get('cache-control')).toBe('no-store');
    const index = await page.text();
    expect(index).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline script
    const script = /src="(\/static\/[^"]+\.js)"/.exec(index)![1];
    const file = await fetch(url(script));
    expect(file.status).toBe(200);
    expect(file.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect((await fetch(url('/static/../../package.json'))).status).toBe(404);
    expect((await fetch(url('/static/nope.js'))).status).toBe(404);
  });

  it('signs in (passport local) into an HttpOnly SameSite=Strict cookie and lands on `next`', async () => {
    const { context, page } = await newPage();
    await page.goto(url('/console/password'));
    await page.waitForURL(/\/login\?next=/);
    await shot(page, '01-sign-in');
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill('wrong-password-123');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toMatch(/invalid_credentials/);
    await shot(page, '02-sign-in-error');
    await page.getByLabel('Password').fill(stack.admin.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(url('/console/password'));
    await page.getByRole('heading', { name: 'Change password' }).waitFor();
    await shot(page, '03-password');
    const cookies = await context.cookies(stack.url);
    const session = cookies.find((c) => c.name === 'gantry_session')!;
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/', secure: false });
    expect(cookies.find((c) => c.name === 'gantry_csrf')).toMatchObject({ httpOnly: false, sameSite: 'Strict', path: '/' });
    // Neither the refused password, the right one, nor the session it bought is in any service's log.
    const logs = stack.logs();
    for (const secret of ['wrong-password-123', stack.admin.password, session.value]) expect(logs).not.toContain(secret);
  });

  it('refuses a foreign `next` after sign-in (same-site paths only)', async () => {
    const { page } = await newPage();
    for (const next of ['https://evil.example/', '//evil.example/x', '/\\evil.example']) {
      // Leave the console first: signed out under it, its next action would navigate to /login itself.
      await page.goto('about:blank');
      await page.context().clearCookies();
      await signIn(page, 'admin', stack.admin.password, `/login?next=${encodeURIComponent(next)}`);
      expect(new URL(page.url()).origin).toBe(stack.url);
      expect(new URL(page.url()).pathname).toBe('/console');
    }
  });

  it('creates a PAT, reveals it once, the token works over HTTP, then revokes it', async () => {
    const { page } = await newPage();
    await signIn(page, 'admin', stack.admin.password);
    await page.getByText('No personal access tokens yet').waitFor();
    await shot(page, '04-tokens-empty');
    await page.getByLabel('Name').fill('browser-made');
    await page.getByRole('button', { name: 'Create token' }).click();
    const secret = page.getByTestId('secret');
    await secret.waitFor();
    await expect(page.getByText('shown only this once').count()).resolves.toBe(1);
    const token = (await secret.textContent())!;
    expect(token).toMatch(/^gtp_/);
    await shot(page, '05-token-reveal');
    const whoami = await call(url('/api/v1/user'), { token });
    expect(whoami.status).toBe(200);
    expect(whoami.body).toMatchObject({ kind: 'pat', user: { username: 'admin' } });
    await page.getByRole('button', { name: 'I have stored it' }).click();
    await expect(secret.count()).resolves.toBe(0);
    const row = page.locator('tr[data-token-name="browser-made"]');
    await row.getByRole('button', { name: 'Revoke' }).click();
    await row.getByText('revoked').waitFor();
    await shot(page, '06-tokens-list');
    expect((await call(url('/api/v1/user'), { token })).status).toBe(401);
  });

  it('refuses a state change by cookie without the CSRF token or from another origin', async () => {
    const { context, page } = await newPage();
    await signIn(page, 'admin', stack.admin.password);
    // From the console's own page, but without X-CSRF-Token.
    const status = await page.evaluate(async () => {
      const response = await fetch('/api/v1/user/tokens', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'csrf', scopes: ['repo:read'] }) });
      return response.status;
    });
    expect(status).toBe(403);
    const { header, csrf } = await cookiesOf(context);
    const body = JSON.stringify({ name: 'csrf', scopes: ['repo:read'] });
    const post = (headers: Record<string, string>) => fetch(url('/api/v1/user/tokens'), { method: 'POST', headers: { 'content-type': 'application/json', cookie: header, ...headers }, body });
    const foreign = await post({ origin: 'https://evil.example', 'x-csrf-token': csrf });
    expect(foreign.status).toBe(403);
    expect(((await foreign.json()) as { error: { message: string } }).error.message).toMatch(/origin/i);
    expect((await post({ origin: stack.url, 'x-csrf-token': 'A'.repeat(43) })).status).toBe(403);
    expect((await post({ origin: stack.url })).status).toBe(403);
    expect((await post({ origin: stack.url, 'x-csrf-token': csrf })).status).toBe(201);
    // A sign-in from another origin is refused too (login CSRF).
    const crossLogin = await fetch(url('/console/login'), { method: 'POST', headers: { 'content-type': 'application/json', origin: 'https://evil.example' }, body: JSON.stringify({ username: 'admin', password: stack.admin.password }) });
    expect(crossLogin.status).toBe(403);
    // Reading with the cookie needs no token; bearer callers are untouched.
    expect((await fetch(url('/api/v1/user'), { headers: { cookie: header } })).status).toBe(200);
    expect((await call(url('/api/v1/user/tokens'), { method: 'POST', token: admin, body: { name: 'bearer', scopes: ['repo:read'] } })).status).toBe(201);
  });

  it('an admin page for a member → 302 to the console home with a message', async () => {
    const member = await api.user(admin, 'console-member');
    const { context, page } = await newPage();
    await signIn(page, member.username, member.password);
    const { header } = await cookiesOf(context);
    const direct = await noRedirect('/console/admin/users', { ...html, cookie: header });
    expect([direct.status, direct.headers.get('location')]).toEqual([302, '/console?notice=admin_only']);
    await page.goto(url('/console/admin/users'));
    await page.waitForURL(url('/console?notice=admin_only'));
    await page.getByText('That page is for administrators only.').waitFor();
    await expect(page.getByRole('link', { name: 'Users' }).count()).resolves.toBe(0);
    await shot(page, '07-admin-only-notice');
  });

  it('an admin deactivates a user; their open console is signed out on the next action', async () => {
    const victim = await api.user(admin, 'console-victim');
    const open = await newPage();
    await signIn(open.page, victim.username, victim.password);
    await open.page.getByText('No personal access tokens yet').waitFor();

    const { page } = await newPage();
    await signIn(page, 'admin', stack.admin.password, '/login?next=/console/admin/users');
    const row = page.locator('tr[data-username="console-victim"]');
    await row.getByRole('button', { name: 'Deactivate' }).click();
    await row.getByText('deactivated').waitFor();
    // The safeguard, said plainly: an admin cannot deactivate themselves.
    await page.locator('tr[data-username="admin"]').getByRole('button', { name: 'Deactivate' }).click();
    await page.getByText('Refused: you cannot do this to your own account').waitFor();
    await shot(page, '08-admin-users');

    await open.page.getByLabel('Name').fill('after-deactivation');
    await open.page.getByRole('button', { name: 'Create token' }).click();
    await open.page.waitForURL(/\/login\?next=%2Fconsole&notice=signed_out/);
    await open.page.getByText('Your session has ended').waitFor();
    await shot(open.page, '09-signed-out');
  });

  it('starts a run with a parameter and watches its log finish live (SSE)', async () => {
    const repo = await api.post('/api/v1/repos', admin, { name: 'console-ci', visibility: 'private' });
    expect(repo.status).toBe(201);
    const job = await api.put('/api/v1/repos/admin/console-ci/jobs/hello', admin, {
      steps: [{ run: 'echo "hello $GANTRY_PARAM_GREETING"; sleep 2; for i in 1 2 3; do echo "line $i"; done' }],
      params: [{ name: 'GREETING', required: true, description: 'who to greet' }],
    });
    expect([200, 201]).toContain(job.status);
    const { page } = await newPage();
    await signIn(page, 'admin', stack.admin.password, '/login?next=/console/runs');
    await page.getByText('No runs yet.').waitFor();
    await shot(page, '11-runs-empty');
    const form = page.getByRole('form', { name: 'Start admin/console-ci/hello' });
    await form.getByLabel('GREETING').fill('console');
    await form.getByRole('button', { name: 'Start run' }).click();
    await page.waitForURL(/\/console\/runs\/[0-9a-f-]{36}$/);
    const log = page.getByLabel('Run log');
    // The first line arrives while the run still runs: the log is live, not fetched at the end.
    await page.getByText('hello console').waitFor();
    await expect(page.locator('[data-status]').first().getAttribute('data-status')).resolves.toBe('running');
    await shot(page, '12-run-live');
    await page.locator('[data-status="succeeded"]').waitFor({ timeout: 30_000 });
    await expect(log.textContent()).resolves.toMatch(/\nhello console\nline 1\nline 2\nline 3\n\[gantry\] step 1 exited with code 0$/);
    await shot(page, '13-run-finished');
    await page.getByRole('link', { name: 'Runs' }).click();
    await page.locator('table[aria-label="Runs"] [data-status="succeeded"]').waitFor();
    await shot(page, '14-runs-list');
  });

  it('mints an install token: one-time reveal with the register command; sees it used; cancels and revokes', async () => {
    const { page } = await newPage();
    await signIn(page, 'admin', stack.admin.password, '/login?next=/console/admin/runners');
    await page.getByText('No runners registered.').waitFor();
    await shot(page, '15-runners-empty');
    await page.getByLabel('Description').fill('rack 3');
    await page.getByLabel('Labels (comma-separated)').fill('linux, arm64');
    await page.getByLabel('Runner name').fill('builder-7');
    await page.getByRole('button', { name: 'Mint install token' }).click();
    const token = (await page.getByTestId('secret').textContent())!;
    expect(token).toMatch(/^gti_/);
    await expect(page.getByTestId('register-command').textContent()).resolves.toBe(`gantry runner register --url ${stack.url} --install-token ${token} --name builder-7`);
    await shot(page, '16-install-token-reveal');
    const exchanged = await call(url('/api/v1/install-tokens/exchange'), { method: 'POST', body: { token, runnerName: 'builder-7' } });
    expect(exchanged.status).toBe(200);
    await page.reload();
    await page.locator('tr[data-runner="builder-7"]').waitFor();
    await expect(page.locator('table[aria-label="Install tokens"] [data-status]').first().getAttribute('data-status')).resolves.toBe('used');
    await expect(page.getByTestId('secret').count()).resolves.toBe(0); // revealed once, gone after a reload
    // A second token, cancelled; the runner, revoked.
    await page.getByRole('button', { name: 'Mint install token' }).click();
    await page.getByTestId('secret').waitFor();
    await page.getByRole('button', { name: 'I have stored it' }).click();
    await page.locator('table[aria-label="Install tokens"]').getByRole('button', { name: 'Cancel' }).click();
    await page.locator('[data-status="cancelled"]').waitFor();
    await page.locator('tr[data-runner="builder-7"]').getByRole('button', { name: 'Revoke' }).click();
    await page.locator('tr[data-runner="builder-7"]').getByText('revoked').waitFor();
    await shot(page, '17-runners');
    expect((await call(url('/api/v1/runner'), { token: exchanged.body.token })).status).toBe(401);
  });

  it('uploads an asset with a progress bar, browses by prefix, downloads it, deletes it', async () => {
    expect((await api.post('/api/v1/repos', admin, { name: 'console-assets', visibility: 'private' })).status).toBe(201);
    const { context, page } = await newPage();
    await signIn(page, 'admin', stack.admin.password, '/login?next=/console/assets');
    await page.getByLabel('Repository').selectOption('admin/console-assets');
    await page.getByText('No assets yet.').waitFor();
    await shot(page, '18-assets-empty');
    // A slow uplink (Chromium's own throttling), so the progress bar is seen moving.
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 1024 * 1024 });
    const bytes = randomBytes(3 * 1024 * 1024);
    await page.getByLabel('File', { exact: true }).setInputFiles({ name: 'app.bin', mimeType: 'application/octet-stream', buffer: bytes });
    await page.getByLabel('Path (default: the file name)').fill('v1.0/app.bin');
    await page.getByRole('button', { name: 'Upload' }).click();
    const bar = page.getByLabel('Upload progress');
    await bar.waitFor();
    // The bar moves: its value passes 10 % while the upload still runs.
    await expect(bar.evaluate((element, threshold) => new Promise<number>((resolve) => {
      const check = () => (Number((element as { value?: number }).value) > threshold ? resolve(Number((element as { value?: number }).value)) : setTimeout(check, 20));
      check();
    }), 0.1)).resolves.toBeLessThan(1);
    await shot(page, '19-asset-uploading');
    await page.getByText('uploaded v1.0/app.bin').waitFor({ timeout: 30_000 });
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    await page.locator('tr[data-asset="v1.0/app.bin"]').waitFor();
    await page.getByRole('textbox', { name: 'Prefix', exact: true }).fill('v2/');
    await page.getByRole('button', { name: 'Browse' }).click();
    await page.getByText('No assets under “v2/” yet.').waitFor();
    await page.getByRole('textbox', { name: 'Prefix', exact: true }).fill('v1.0/');
    await page.getByRole('button', { name: 'Browse' }).click();
    await page.locator('tr[data-asset="v1.0/app.bin"]').waitFor();
    await shot(page, '20-assets');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'v1.0/app.bin' }).click()]);
    expect(readFileSync(await download.path()).equals(bytes)).toBe(true);
    await page.locator('tr[data-asset="v1.0/app.bin"]').getByRole('button', { name: 'Delete' }).click();
    await page.getByText('No assets under “v1.0/” yet.').waitFor();
    expect((await call(url('/api/v1/repos/admin/console-assets/assets/v1.0/app.bin'), { token: admin })).status).toBe(404);
  });

  it('creates a repository, adds a member, creates an API key (one-time reveal) that works, revokes it', async () => {
    await api.user(admin, 'repo-friend');
    const { page } = await newPage();
    await signIn(page, 'admin', stack.admin.password, '/login?next=/console/repos');
    await page.getByRole('textbox', { name: 'Name', exact: true }).fill('console-web');
    await page.getByRole('button', { name: 'Create repository' }).click();
    const details = page.getByRole('region', { name: 'Repository admin/console-web' });
    await details.getByText('No API keys yet.').waitFor();
    await details.getByLabel('Username').fill('repo-friend');
    await details.getByLabel('Role').selectOption('write');
    await details.getByRole('button', { name: 'Add or change' }).click();
    await details.locator('tr[data-member="repo-friend"]').getByText('write').waitFor();
    await details.getByLabel('Key name').fill('deploy');
    await details.getByRole('checkbox', { name: 'assets:write' }).check();
    await details.getByRole('button', { name: 'Create API key' }).click();
    const key = (await details.getByTestId('secret').textContent())!;
    expect(key).toMatch(/^gtk_/);
    await shot(page, '21-repos');
    expect((await call(url('/api/v1/repos/admin/console-web'), { headers: { 'x-gantry-key': key } })).status).toBe(200);
    await details.getByRole('button', { name: 'I have stored it' }).click();
    await details.locator('tr[data-key="deploy"]').getByRole('button', { name: 'Revoke' }).click();
    await details.locator('tr[data-key="deploy"]').getByText('revoked').waitFor();
    expect((await call(url('/api/v1/repos/admin/console-web'), { headers: { 'x-gantry-key': key } })).status).toBe(401);
  });

  it('sign-out ends the session: the old cookie is refused everywhere', async () => {
    const { context, page } = await newPage();
    await signIn(page, 'admin', stack.admin.password);
    const { header } = await cookiesOf(context);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/login\?notice=signed_out_now/);
    await shot(page, '10-signed-out-now');
    expect((await context.cookies(stack.url)).filter((c) => c.name.startsWith('gantry_'))).toEqual([]);
    expect((await fetch(url('/api/v1/user'), { headers: { cookie: header } })).status).toBe(401);
    const again = await noRedirect('/console', { ...html, cookie: header });
    expect(again.status).toBe(302);
  });
});
