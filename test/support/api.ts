import { call, login, type GantryStack } from './gantry-stack';

/** Small helpers over the public HTTP API, as a user would call it. */
export class Api {
  constructor(
    readonly stack: GantryStack,
    readonly baseUrl = stack.url,
  ) {}

  on(baseUrl: string): Api {
    return new Api(this.stack, baseUrl);
  }

  get(path: string, token?: string, headers?: Record<string, string>) {
    return call(`${this.baseUrl}${path}`, { token, headers });
  }
  post(path: string, token?: string, body: unknown = {}) {
    return call(`${this.baseUrl}${path}`, { method: 'POST', token, body });
  }
  put(path: string, token?: string, body: unknown = {}) {
    return call(`${this.baseUrl}${path}`, { method: 'PUT', token, body });
  }
  patch(path: string, token?: string, body: unknown = {}) {
    return call(`${this.baseUrl}${path}`, { method: 'PATCH', token, body });
  }
  delete(path: string, token?: string) {
    return call(`${this.baseUrl}${path}`, { method: 'DELETE', token });
  }

  login(username: string, password: string): Promise<string> {
    return login(this.stack, username, password);
  }

  /** Creates a user as `adminToken` and logs them in. */
  async user(adminToken: string, username: string, role: 'admin' | 'member' = 'member') {
    const password = `pw-${username}-0123456789`;
    const created = await this.post('/api/v1/users', adminToken, { username, password, role });
    if (created.status !== 201) throw new Error(`create user ${username}: ${created.status} ${JSON.stringify(created.body)}`);
    return { id: created.body.user.id as string, username, password, session: await this.login(username, password) };
  }

  async pat(session: string, scopes: string[] = ['repo:read'], name = 'test') {
    const created = await this.post('/api/v1/user/tokens', session, { name, scopes });
    if (created.status !== 201) throw new Error(`create PAT: ${created.status} ${JSON.stringify(created.body)}`);
    return created.body as { id: string; token: string; prefix: string };
  }
}
