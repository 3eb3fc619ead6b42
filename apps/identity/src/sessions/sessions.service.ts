import { Inject, Injectable } from '@nestjs/common';
import { SignJWT } from 'jose';
import { randomUUID } from 'node:crypto';
import { GantryError, IdentityEvents, SESSION_JWT, type LoginBody, type ResponseOf, type IdentityRequests } from '#contracts';
import { EventStore, type RequestContext } from '#platform';
import { GatewayInvalidator } from '../auth/gateway-invalidator';
import { IDENTITY_CONFIG, type IdentityConfig } from '../config';
import { PasswordHasher } from '../users/password-hasher';
import { UsersQueries } from '../users/users.queries';
import { SigningKeysService } from './signing-keys.service';

const sessionStream = (sessionId: string) => `session-${sessionId}`;

@Injectable()
export class SessionsService {
  constructor(
    private readonly users: UsersQueries,
    private readonly hasher: PasswordHasher,
    private readonly keys: SigningKeysService,
    private readonly store: EventStore,
    private readonly invalidator: GatewayInvalidator,
    @Inject(IDENTITY_CONFIG) private readonly config: IdentityConfig,
  ) {}

  /** Same answer for an unknown user and a wrong password, at the same cost. */
  async login(body: LoginBody, context: RequestContext): Promise<ResponseOf<typeof IdentityRequests.login>> {
    const user = await this.users.byUsername(body.username);
    const ok = await this.hasher.verify(user ? await this.users.passwordHash(user.id) : null, body.password);
    if (!user || !ok) throw new GantryError('invalid_credentials', 'invalid username or password');
    if (!user.active) throw new GantryError('user_deactivated', 'this user is deactivated');

    const sessionId = randomUUID();
    const expiresAt = new Date(Date.now() + this.config.GANTRY_SESSION_TTL_SECONDS * 1000);
    const token = await this.sign(sessionId, user, expiresAt);
    await this.store.execute((tx) =>
      this.store.append(tx, sessionStream(sessionId), 0, [
        { contract: IdentityEvents.sessionStarted, data: { sessionId, userId: user.id, expiresAt: expiresAt.toISOString() }, subject: { kind: 'user', id: user.id } },
      ], { ...context, actor: { kind: 'user', id: user.id, name: user.username } }),
    );
    return { token, expiresAt: expiresAt.toISOString(), user: { id: user.id, username: user.username, role: user.role } };
  }

  /** Ends one session; it is refused at every gateway once this returns. */
  async logout(sessionId: string, context: RequestContext): Promise<void> {
    await this.store.execute(async (tx) => {
      const { rows } = await tx.query<{ user_id: string; ended_at: Date | null }>('SELECT user_id, ended_at FROM sessions WHERE id = $1 FOR UPDATE', [sessionId]);
      if (!rows[0] || rows[0].ended_at) return;
      await this.store.append(tx, sessionStream(sessionId), 1, [
        { contract: IdentityEvents.sessionEnded, data: { sessionId, userId: rows[0].user_id, reason: 'logout' }, subject: { kind: 'user', id: rows[0].user_id } },
      ], context);
    });
    await this.invalidator.invalidate({ credentialIds: [sessionId] });
  }

  private sign(sessionId: string, user: { id: string; username: string; role: string }, expiresAt: Date): Promise<string> {
    const { kid, privateKey } = this.keys.current;
    return new SignJWT({ username: user.username, role: user.role })
      .setProtectedHeader({ alg: 'EdDSA', kid, typ: 'JWT' })
      .setIssuer(SESSION_JWT.issuer)
      .setAudience(SESSION_JWT.audience)
      .setSubject(user.id)
      .setJti(sessionId)
      .setIssuedAt()
      .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
      .sign(privateKey);
  }
}
