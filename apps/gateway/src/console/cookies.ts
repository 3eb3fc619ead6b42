import { createHash, timingSafeEqual } from 'node:crypto';

/** The console's session cookie (the session JWT, HttpOnly) and its CSRF companion (readable by the page). */
export const SESSION_COOKIE = 'gantry_session';
export const CSRF_COOKIE = 'gantry_csrf';
export const CSRF_HEADER = 'x-csrf-token';

/** The value of one cookie in a Cookie header, or null. No allocation when the header lacks it. */
export function cookieValue(header: string | undefined, name: string): string | null {
  if (header === undefined) return null;
  let at = header.indexOf(`${name}=`);
  while (at !== -1) {
    // A match must start the header or follow "; " (not be the tail of another cookie's name).
    if (at === 0 || header[at - 1] === ' ' || header[at - 1] === ';') {
      const start = at + name.length + 1;
      const end = header.indexOf(';', start);
      return header.slice(start, end === -1 ? undefined : end).trim();
    }
    at = header.indexOf(`${name}=`, at + 1);
  }
  return null;
}

/**
 * The CSRF token of a session: derived from the (HttpOnly) session JWT, so every gateway checks it
 * without shared state, it dies with the session, and a page on another site can neither read nor
 * compute it (a signed double-submit token, OWASP's recommended variant).
 */
export function csrfTokenOf(sessionJwt: string): string {
  return createHash('sha256').update('gantry-console-csrf\0').update(sessionJwt).digest('base64url');
}

export function csrfMatches(sessionJwt: string, presented: string | undefined): boolean {
  if (typeof presented !== 'string') return false;
  const expected = Buffer.from(csrfTokenOf(sessionJwt));
  const given = Buffer.from(presented);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export interface CookieOptions {
  secure: boolean;
  /** Seconds; 0 clears the cookie. */
  maxAge: number;
  httpOnly: boolean;
}

/** One Set-Cookie value: SameSite=Strict and Path=/ always; Secure when the console is served over HTTPS. */
export function setCookie(name: string, value: string, options: CookieOptions): string {
  return [
    `${name}=${value}`, 'Path=/', 'SameSite=Strict', `Max-Age=${Math.max(0, Math.floor(options.maxAge))}`,
    ...(options.httpOnly ? ['HttpOnly'] : []), ...(options.secure ? ['Secure'] : []),
  ].join('; ');
}

/** Set-Cookie values for a new session (both cookies expire with it). */
export function sessionCookies(jwt: string, expiresAt: string, secure: boolean, now = Date.now()): string[] {
  const maxAge = (new Date(expiresAt).getTime() - now) / 1000;
  return [
    setCookie(SESSION_COOKIE, jwt, { secure, maxAge, httpOnly: true }),
    setCookie(CSRF_COOKIE, csrfTokenOf(jwt), { secure, maxAge, httpOnly: false }),
  ];
}

export function clearedCookies(secure: boolean): string[] {
  return [SESSION_COOKIE, CSRF_COOKIE].map((name) => setCookie(name, '', { secure, maxAge: 0, httpOnly: name === SESSION_COOKIE }));
}
