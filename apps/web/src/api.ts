import type { ErrorEnvelope } from '../../../libs/contracts/src/errors';

/** An answer of the API that was not 2xx: the error envelope's code and message. */
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly requestId?: string) {
    super(message);
  }
}

const CSRF_COOKIE = 'gantry_csrf';

function csrfToken(): string {
  const match = document.cookie.split('; ').find((part) => part.startsWith(`${CSRF_COOKIE}=`));
  return match ? match.slice(CSRF_COOKIE.length + 1) : '';
}

/** Sends the session cookie (same origin), the CSRF token on changes, and reads the envelope on errors. */
export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD') headers['x-csrf-token'] = csrfToken();
  let response: Response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  } catch {
    throw new ApiError(0, 'network_error', 'The gateway cannot be reached. Check your connection and try again.');
  }
  if (response.status === 401 && !path.startsWith('/console/login')) {
    // The session ended (signed out elsewhere, deactivated, expired): back to the sign-in page.
    signedOut();
  }
  if (!response.ok) throw await errorOf(response);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

export async function errorOf(response: Response): Promise<ApiError> {
  try {
    const envelope = (await response.json()) as ErrorEnvelope;
    return new ApiError(response.status, envelope.error.code, envelope.error.message, envelope.error.requestId);
  } catch {
    return new ApiError(response.status, 'http_error', `The gateway answered ${response.status}.`);
  }
}

export function signedOut(reason = 'signed_out'): void {
  const next = `${location.pathname}${location.search}`;
  location.assign(`/login?next=${encodeURIComponent(next)}&notice=${reason}`);
}

export { csrfToken };
