import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { randomBytes, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { GantryError, IdentityRequests, MIN_PASSWORD_LENGTH, SYSTEM_ACTOR, type CreateUserBody, type Role, type UpdateUserBody, type User } from '#contracts';
import { EventStore, Idempotency, isUniqueViolation, LOGGER, type RequestContext, type Tx } from '#platform';
import { GatewayInvalidator } from '../auth/gateway-invalidator';
import { IDENTITY_CONFIG, type IdentityConfig } from '../config';
import { writeInitialPassword } from './initial-password';
import { PasswordHasher } from './password-hasher';
import { decideUser, evolveUser, initialUserState, userStream, type UserCommand, type UserState } from './users.decider';
import { UsersQueries } from './users.queries';

const BOOTSTRAP_CONTEXT: RequestContext = { actor: SYSTEM_ACTOR, requestId: null, ip: null };

export function actorUserId(context: RequestContext): string | null {
  return context.actor.kind === 'user' || context.actor.kind === 'pat' ? context.actor.id : null;
}

/** User lifecycle: create, update, (de)activate, delete, passwords. Rules live in the decider. */
@Injectable()
export class UsersService implements OnApplicationBootstrap {
  constructor(
    private readonly store: EventStore,
    private readonly queries: UsersQueries,
    private readonly hasher: PasswordHasher,
    private readonly invalidator: GatewayInvalidator,
    private readonly idempotency: Idempotency,
    @Inject(IDENTITY_CONFIG) private readonly config: IdentityConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.bootstrapAdmin();
  }

  /**
   * The first admin on an empty installation; the advisory lock makes racing replicas create one.
   * A generated password goes to a 0600 file in GANTRY_DATA_DIR, never to the log, and is written
   * before the admin is committed: a password nobody can read is never stored.
   */
  async bootstrapAdmin(): Promise<void> {
    const generated = this.config.GANTRY_ADMIN_PASSWORD === undefined;
    const password = this.config.GANTRY_ADMIN_PASSWORD ?? randomBytes(18).toString('base64url');
    const passwordHash = await this.hasher.hash(password);
    const username = this.config.GANTRY_ADMIN_USERNAME;
    const passwordFile = await this.store.execute(async (tx) => {
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext('gantry-users'))`);
      if ((await tx.query('SELECT 1 FROM users LIMIT 1')).rows.length > 0) return false;
      await this.insertUser(tx, { username, role: 'admin', displayName: null, bootstrap: true }, passwordHash, BOOTSTRAP_CONTEXT);
      return generated ? writeInitialPassword(this.config.GANTRY_DATA_DIR, password) : null;
    });
    if (passwordFile === false) return;
    if (passwordFile) {
      this.logger.warn({ username, passwordFile }, `bootstrap admin created with a generated password: read it from ${passwordFile}, sign in, change it (PUT /api/v1/user/password) and delete the file`);
    } else {
      this.logger.info({ username }, 'bootstrap admin created with the password given by the launcher or operator (GANTRY_ADMIN_PASSWORD)');
    }
  }

  async create(body: CreateUserBody, context: RequestContext): Promise<{ user: User; generatedPassword?: string }> {
    const password = body.password ?? randomBytes(18).toString('base64url');
    checkPolicy(password, 'password');
    const passwordHash = await this.hasher.hash(password);
    // A generated password is a secret: a retry under the same Idempotency-Key gets it only with
    // the credential that made the first request.
    const secret = body.password === undefined;
    return this.store.execute((tx) => this.idempotency.once(tx, context, { secret, response: IdentityRequests.users.create.response }, async () => {
      const userId = await this.insertUser(tx, { username: body.username, role: body.role, displayName: body.displayName ?? null, bootstrap: false }, passwordHash, context);
      const user = await this.queries.get(userId, tx);
      return secret ? { user, generatedPassword: password } : { user };
    }));
  }

  async update(userId: string, changes: UpdateUserBody, context: RequestContext): Promise<User> {
    const { active, ...fields } = changes;
    if (Object.keys(fields).length > 0) await this.run(userId, { type: 'update', ...fields }, context);
    if (active !== undefined) await this.run(userId, { type: active ? 'activate' : 'deactivate' }, context);
    return this.queries.get(userId);
  }

  async delete(userId: string, context: RequestContext): Promise<void> {
    await this.run(userId, { type: 'delete' }, context, (tx) => tx.query('DELETE FROM credentials WHERE user_id = $1', [userId]).then(() => undefined));
  }

  /** New password: every session of the user ends but `keptSessionId`. */
  async setPassword(userId: string, password: string, keptSessionId: string | null, context: RequestContext): Promise<void> {
    checkPolicy(password, keptSessionId ? 'newPassword' : 'password');
    const passwordHash = await this.hasher.hash(password);
    await this.run(userId, { type: 'change_password', bySelf: keptSessionId !== null, keptSessionId }, context, async (tx) => {
      await tx.query('UPDATE credentials SET password_hash = $2, updated_at = now() WHERE user_id = $1', [userId, passwordHash]);
    });
  }

  async changeOwnPassword(userId: string, sessionId: string, currentPassword: string, newPassword: string, context: RequestContext): Promise<void> {
    const stored = await this.queries.passwordHash(userId);
    if (!(await this.hasher.verify(stored, currentPassword))) throw new GantryError('invalid_request', 'currentPassword: wrong password', 'currentPassword');
    await this.setPassword(userId, newPassword, sessionId, context);
  }

  /**
   * Runs a command on one user's stream. Every user mutation takes one advisory lock, so the
   * active-admin count it checks cannot change under it (two admins demoting each other: one wins).
   */
  private async run(userId: string, command: UserCommand, context: RequestContext, alsoInTx?: (tx: Tx) => Promise<void>): Promise<void> {
    const events = await this.store.execute(async (tx) => {
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext('gantry-users'))`);
      const state = await this.load(tx, userId);
      const events = decideUser(state, command, { actorUserId: actorUserId(context), activeAdmins: await this.queries.activeAdmins(tx) });
      await this.store.append(tx, userStream(userId), state.version, events, context);
      if (events.length > 0) await alsoInTx?.(tx);
      return events;
    });
    const updatedRole = events.some((e) => e.contract.type === 'identity.user.updated' && 'role' in (e.data as object));
    if (events.length > 0 && (command.type !== 'update' || updatedRole)) await this.invalidator.invalidate({ userIds: [userId] });
  }

  private async insertUser(tx: Tx, user: { username: string; role: Role; displayName: string | null; bootstrap: boolean }, passwordHash: string, context: RequestContext): Promise<string> {
    const userId = randomUUID();
    const events = decideUser(initialUserState, { type: 'create', userId, ...user }, { actorUserId: actorUserId(context), activeAdmins: 0 });
    try {
      await this.store.append(tx, userStream(userId), 0, events, context);
    } catch (error) {
      if (isUniqueViolation(error, 'users_username_key')) throw new GantryError('username_taken', `username ${user.username} is taken`, 'username');
      throw error;
    }
    await tx.query('INSERT INTO credentials (user_id, password_hash) VALUES ($1, $2)', [userId, passwordHash]);
    return userId;
  }

  private async load(tx: Tx, userId: string): Promise<UserState> {
    return (await this.store.readStream(tx, userStream(userId))).reduce(evolveUser, initialUserState);
  }
}

function checkPolicy(password: string, field: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) throw new GantryError('weak_password', `${field}: at least ${MIN_PASSWORD_LENGTH} characters`, field);
}
