import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { randomBytes, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { SYSTEM_ACTOR, type Role } from '#contracts';
import { Database, EventStore, LOGGER, type Tx } from '#platform';
import { IDENTITY_CONFIG, type IdentityConfig } from '../config';
import { PasswordHasher } from './password-hasher';
import { decideUser, evolveUser, initialUserState, userStream, type UserState } from './users.decider';

export interface UserRecord {
  id: string;
  username: string;
  role: Role;
  active: boolean;
  passwordHash: string | null;
}

@Injectable()
export class UsersService implements OnApplicationBootstrap {
  constructor(
    private readonly db: Database,
    private readonly store: EventStore,
    private readonly hasher: PasswordHasher,
    @Inject(IDENTITY_CONFIG) private readonly config: IdentityConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.bootstrapAdmin();
  }

  /**
   * Creates the first admin on an empty installation. The advisory lock makes two replicas
   * starting at once create one admin, not two.
   */
  async bootstrapAdmin(): Promise<void> {
    const generated = this.config.GANTRY_ADMIN_PASSWORD === undefined;
    const password = this.config.GANTRY_ADMIN_PASSWORD ?? randomBytes(18).toString('base64url');
    const passwordHash = await this.hasher.hash(password);
    const created = await this.store.execute(async (tx) => {
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext('gantry-bootstrap-admin'))`);
      const { rows } = await tx.query('SELECT 1 FROM users LIMIT 1');
      if (rows.length > 0) return false;
      await this.createUser(tx, { username: this.config.GANTRY_ADMIN_USERNAME, role: 'admin', passwordHash, bootstrap: true });
      return true;
    });
    if (!created) return;
    const username = this.config.GANTRY_ADMIN_USERNAME;
    if (generated) {
      // Printed once, on the first start only: the operator's only chance to read it.
      this.logger.warn({ username, generatedPassword: password }, 'bootstrap admin created with a generated password: change it after the first login');
    } else {
      this.logger.info({ username }, 'bootstrap admin created from GANTRY_ADMIN_PASSWORD');
    }
  }

  async findByUsername(username: string): Promise<UserRecord | null> {
    const { rows } = await this.db.query<{ id: string; username: string; role: Role; active: boolean; password_hash: string | null }>(
      `SELECT u.id, u.username, u.role, u.active, c.password_hash
         FROM users u LEFT JOIN credentials c ON c.user_id = u.id WHERE u.username = $1`,
      [username],
    );
    const row = rows[0];
    return row ? { id: row.id, username: row.username, role: row.role, active: row.active, passwordHash: row.password_hash } : null;
  }

  private async createUser(tx: Tx, input: { username: string; role: Role; passwordHash: string; bootstrap: boolean }): Promise<string> {
    const userId = randomUUID();
    const stream = userStream(userId);
    const state = await this.loadState(tx, stream);
    const events = decideUser(state, { type: 'create', userId, username: input.username, role: input.role, bootstrap: input.bootstrap });
    await this.store.append(tx, stream, state.version, events, { actor: SYSTEM_ACTOR, requestId: null, ip: null });
    await tx.query('INSERT INTO credentials (user_id, password_hash) VALUES ($1, $2)', [userId, input.passwordHash]);
    return userId;
  }

  private async loadState(tx: Tx, stream: string): Promise<UserState> {
    return (await this.store.readStream(tx, stream)).reduce(evolveUser, initialUserState);
  }
}
