import { Injectable } from '@nestjs/common';
import type { IncomingHttpHeaders } from 'node:http';
import { GantryError, parseToken, type Principal } from '#contracts';
import { SessionVerifier } from './session-verifier';

const BEARER = /^Bearer ([^\s]+)$/i;
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * Turns a request's credential into a principal. Malformed credentials and bad checksums are
 * refused here, before anything is looked up.
 */
@Injectable()
export class Authenticator {
  constructor(private readonly sessions: SessionVerifier) {}

  async authenticate(headers: IncomingHttpHeaders): Promise<Principal> {
    const credential = extractCredential(headers);
    if (!credential) throw new GantryError('unauthenticated', 'authentication required: send Authorization: Bearer <token>');
    if (JWT_SHAPE.test(credential)) return this.sessions.verify(credential);
    if (!parseToken(credential)) throw new GantryError('invalid_token', 'malformed token or bad checksum');
    // Opaque tokens (PATs, runner, CI job, API keys) are resolved by identity; none are issued yet.
    throw new GantryError('invalid_token', 'unknown token');
  }
}

function extractCredential(headers: IncomingHttpHeaders): string | null {
  const authorization = headers.authorization;
  if (authorization) return BEARER.exec(authorization)?.[1] ?? '';
  const key = headers['x-gantry-key'];
  return typeof key === 'string' ? key : null;
}
