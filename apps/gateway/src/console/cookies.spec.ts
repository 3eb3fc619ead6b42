import { describe, expect, it } from '@jest/globals';
import { clearedCookies, cookieValue, csrfMatches, csrfTokenOf, sessionCookies } from './cookies';

describe('console cookies', () => {
  it('finds a cookie by its exact name only', () => {
    expect(cookieValue('gantry_session=a.b.c; gantry_csrf=x', 'gantry_session')).toBe('a.b.c');
    expect(cookieValue('other=1;gantry_csrf=x', 'gantry_csrf')).toBe('x');
    expect(cookieValue('not_gantry_session=evil; gantry_session=good', 'gantry_session')).toBe('good');
    expect(cookieValue('xgantry_session=evil', 'gantry_session')).toBeNull();
    expect(cookieValue(undefined, 'gantry_session')).toBeNull();
  });

  it('sets the session HttpOnly, both SameSite=Strict on Path=/, Secure only over HTTPS', () => {
    const now = Date.parse('2026-11-30T10:00:00Z');
    const expiresAt = '2026-11-30T11:00:00.000Z';
    const [session, csrf] = sessionCookies('h.p.s', expiresAt, false, now);
    expect(session).toBe('gantry_session=h.p.s; Path=/; SameSite=Strict; Max-Age=3600; HttpOnly');
    expect(csrf).toBe(`gantry_csrf=${csrfTokenOf('h.p.s')}; Path=/; SameSite=Strict; Max-Age=3600`);
    expect(sessionCookies('h.p.s', expiresAt, true).every((cookie) => cookie.endsWith('; Secure'))).toBe(true);
    expect(clearedCookies(false)).toEqual(['gantry_session=; Path=/; SameSite=Strict; Max-Age=0; HttpOnly', 'gantry_csrf=; Path=/; SameSite=Strict; Max-Age=0']);
  });

  it('derives the CSRF token from the session: another session, or nothing, does not match', () => {
    const token = csrfTokenOf('session-one');
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(csrfMatches('session-one', token)).toBe(true);
    expect(csrfMatches('session-two', token)).toBe(false);
    expect(csrfMatches('session-one', undefined)).toBe(false);
    expect(csrfMatches('session-one', token.slice(1))).toBe(false);
  });
});
