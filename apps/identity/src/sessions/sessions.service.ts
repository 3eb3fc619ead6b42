import { Inject, Injectable } from '@nestjs/common';
import { SignJWT } from 'jose';
import { randomUUID } from 'node:crypto';
import { GantryError, IdentityEvents, type LoginBody, type ResponseOf, type IdentityRequests } from '#contracts';
import { EventStore, type RequestContext } from '#platform';
import { IDENTITY_CONFIG, type IdentityConfig } from '../config';
import { PasswordHasher } from '../users/password-hasher';
import { UsersService } from '../users/users.service';
import { SigningKeysService } from './signing-keys.service';

/** Issuer and audience of session JWTs; the gateway checks both. */
export const SESSION_ISSUER = 'gantry-identity';
export const SESSION_AUDIENCE = 'gantry';

@Injectable()
export class SessionsService {
  constructor(
    private readonly users: UsersService,
    private readonly hasher: PasswordHasher,
    private readonly keys: SigningKeysService,
    private readonly store: EventStore,
    @Inject(IDENTITY_CONFIG) private readonly config: IdentityConfig,
  ) {}

  /** Same answer for an unknown user and a wrong password, at the same cost. */
  async login(body: LoginBody, context: RequestContext): Promise<ResponseOf<typeof IdentityRequests.login>> {
    const user = await this.users.findByUsername(body.username);
    const ok = await this.hasher.verify(user?.passwordHash ?? null, body.password);
    if (!user || !ok) throw new GantryError('invalid_credentials', 'invalid username or password');
    if (!user.active) throw new GantryError('user_deactivated', 'this user is deactivated');

    const sessionId = randomUUID();
    const expiresAt = new Date(Date.now() + this.config.GANTRY_SESSION_TTL_SECONDS * 1000);
    const { kid, privateKey } = this.keys.current;
    const token = await new SignJWT({ username: user.username, role: user.role })
      .setProtectedHeader({ alg: 'EdDSA', kid, typ: 'JWT' })
      .setIssuer(SESSION_ISSUER)
      .setAudience(SESSION_AUDIENCE)
      .setSubject(user.id)
      .setJti(sessionId)
      .setIssuedAt()
      .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
      .sign(privateKey);

    await this.store.execute((tx) =>
      this.store.append(tx, `session-${sessionId}`, 0, [
        { contract: IdentityEvents.sessionStarted, data: { sessionId, userId: user.id, expiresAt: expiresAt.toISOString() }, subject: { kind: 'user', id: user.id } },
      ], { actor: { kind: 'user', id: user.id, name: user.username }, requestId: context.requestId, ip: context.ip }),
    );
    return { token, expiresAt: expiresAt.toISOString(), user: { id: user.id, username: user.username, role: user.role } };
  }
}
