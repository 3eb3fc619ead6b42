import { waitFor } from '../../libs/platform/src/testing/wait-for';
import type { Api } from './api';

/** CI helpers over the public HTTP API, as a user would call it. */
export class Ci {
  constructor(private readonly api: Api) {}

  async repo(token: string, name: string, visibility: 'private' | 'public' = 'private') {
    const created = await this.api.post('/api/v1/repos', token, { name, visibility });
    if (created.status !== 201) throw new Error(`create repo ${name}: ${created.status} ${JSON.stringify(created.body)}`);
    return created.body as { id: string; fullName: string };
  }

  async job(token: string, repo: string, name: string, spec: object) {
    const put = await this.api.put(`/api/v1/repos/${repo}/jobs/${name}`, token, spec);
    if (put.status !== 201 && put.status !== 200) throw new Error(`put job ${name}: ${put.status} ${JSON.stringify(put.body)}`);
    return put.body;
  }

  async trigger(token: string, repo: string, job: string, params?: Record<string, string>) {
    const run = await this.api.post(`/api/v1/repos/${repo}/jobs/${job}/runs`, token, params ? { params } : {});
    if (run.status !== 201) throw new Error(`trigger ${job}: ${run.status} ${JSON.stringify(run.body)}`);
    return run.body as { id: string; number: number; status: string };
  }

  run(token: string, id: string) {
    return this.api.get(`/api/v1/runs/${id}`, token);
  }

  /** Waits until the run satisfies `done` (default: it ended) and returns it. */
  async until(token: string, id: string, done: (run: any) => boolean = ended, timeoutMs = 30000) {
    return waitFor(async () => {
      const response = await this.run(token, id);
      return response.status === 200 && done(response.body) ? response.body : null;
    }, { timeoutMs, message: `run ${id} did not reach the expected state` });
  }

  async log(token: string, id: string): Promise<string> {
    const response = await fetch(`${this.api.baseUrl}/api/v1/runs/${id}/log`, { headers: { authorization: `Bearer ${token}` } });
    if (response.status !== 200) throw new Error(`log: ${response.status} ${await response.text()}`);
    return response.text();
  }
}

export const ended = (run: { status: string }) => !['queued', 'running'].includes(run.status);
