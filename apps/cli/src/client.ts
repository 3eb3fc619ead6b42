import type { Readable } from 'node:stream';
import { request, type Dispatcher } from 'undici';
import type { z } from 'zod';
import type { Target } from './config';
import { CliError, errorFromResponse, EXIT, messageOf } from './errors';

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD';

export interface CallOptions {
  body?: unknown;
  headers?: Record<string, string>;
  /** Default true: send the target's token (and fail with exit 3 when there is none). */
  auth?: boolean;
  signal?: AbortSignal;
}

export const USER_AGENT = 'gantry-cli/0.1';

/** The gateway over HTTP: JSON in, contract-parsed JSON out, the error envelope as a CliError. */
export class GantryClient {
  constructor(readonly target: Target) {}

  get url(): string {
    return this.target.url;
  }

  /** A JSON call; the answer parsed with `schema` (a contract) when given. 204 → undefined. */
  async json<S extends z.ZodType>(method: Method, path: string, schema: S, options?: CallOptions): Promise<z.infer<S>>;
  async json(method: Method, path: string, schema?: undefined, options?: CallOptions): Promise<unknown>;
  async json(method: Method, path: string, schema?: z.ZodType, options: CallOptions = {}): Promise<unknown> {
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    let body: string | undefined;
    if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    const response = await this.send(method, path, { ...options, headers, body });
    const text = await response.body.text();
    const parsed = text.length > 0 ? safeJson(text) : undefined;
    if (response.statusCode >= 400) throw errorFromResponse(response.statusCode, parsed);
    if (response.statusCode === 204 || schema === undefined) return parsed;
    const result = schema.safeParse(parsed);
    if (!result.success) throw new CliError(`unexpected answer from the server to ${method} ${path}: ${result.error.issues[0]?.message ?? 'invalid'}`);
    return result.data;
  }

  /** A raw call (streams, downloads): the caller reads the body; errors still become CliErrors. */
  async raw(method: Method, path: string, options: CallOptions & { stream?: Readable } = {}): Promise<Dispatcher.ResponseData> {
    const response = await this.send(method, path, { ...options, body: options.stream });
    if (response.statusCode >= 400) {
      const text = await response.body.text();
      throw errorFromResponse(response.statusCode, safeJson(text));
    }
    return response;
  }

  private async send(method: Method, path: string, options: CallOptions & { body?: string | Readable }): Promise<Dispatcher.ResponseData> {
    const headers: Record<string, string> = { 'user-agent': USER_AGENT, ...options.headers };
    if (options.auth !== false) {
      if (!this.target.token) throw new CliError('not logged in: run `gantry login` (or set GANTRY_TOKEN)', EXIT.auth);
      headers.authorization = `Bearer ${this.target.token}`;
    }
    try {
      return await request(`${this.target.url}${path}`, { method, headers, body: options.body, signal: options.signal });
    } catch (error) {
      if ((error as { name?: string }).name === 'AbortError') throw error;
      throw new CliError(`cannot reach ${this.target.url}: ${describeNetworkError(error)}`, EXIT.error, { cause: error });
    }
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function describeNetworkError(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? `${code} (${messageOf(error)})` : messageOf(error);
}

/** `owner/repo` → the path prefix `/api/v1/repos/owner/repo`. */
export function repoPath(fullName: string): string {
  const parts = fullName.split('/');
  if (parts.length !== 2 || parts.some((part) => part.length === 0)) throw new CliError(`expected owner/repo, got "${fullName}"`, EXIT.usage);
  return `/api/v1/repos/${parts.map(encodeURIComponent).join('/')}`;
}

/** An asset path, each segment encoded (slashes kept). */
export function assetPath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}
