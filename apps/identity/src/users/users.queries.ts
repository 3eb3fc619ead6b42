import { Injectable } from '@nestjs/common';
import { GantryError, type PageQuery, type Role, type User } from '#contracts';
import { Database, type Tx } from '#platform';

interface UserRow {
  id: string;
  username: string;
  display_name: string | null;
  role: Role;
  active: boolean;
  created_at: Date;
  deactivated_at: Date | null;
}

const COLUMNS = 'id, username, display_name, role, active, created_at, deactivated_at';

export function toUser(row: UserRow): User {
  return {
    id: row.id, username: row.username, displayName: row.display_name, role: row.role, active: row.active,
    createdAt: row.created_at.toISOString(), deactivatedAt: row.deactivated_at?.toISOString() ?? null,
  };
}

/** Reads of the users projection. */
@Injectable()
export class UsersQueries {
  constructor(private readonly db: Database) {}

  async get(userId: string, tx: Tx = this.db): Promise<User> {
    const { rows } = await tx.query<UserRow>(`SELECT ${COLUMNS} FROM users WHERE id = $1`, [userId]);
    if (!rows[0]) throw new GantryError('not_found', 'no such user');
    return toUser(rows[0]);
  }

  async byUsername(username: string, tx: Tx = this.db): Promise<User | null> {
    const { rows } = await tx.query<UserRow>(`SELECT ${COLUMNS} FROM users WHERE username = $1`, [username]);
    return rows[0] ? toUser(rows[0]) : null;
  }

  /** Keyset pagination by username; the cursor is the last username seen, base64url-encoded. */
  async list(page: PageQuery): Promise<{ items: User[]; nextCursor: string | null }> {
    const after = page.cursor ? Buffer.from(page.cursor, 'base64url').toString() : '';
    const { rows } = await this.db.query<UserRow>(`SELECT ${COLUMNS} FROM users WHERE username > $1 ORDER BY username LIMIT $2`, [after, page.limit + 1]);
    const items = rows.slice(0, page.limit).map(toUser);
    const nextCursor = rows.length > page.limit ? Buffer.from(items[items.length - 1].username).toString('base64url') : null;
    return { items, nextCursor };
  }

  async passwordHash(userId: string): Promise<string | null> {
    const { rows } = await this.db.query<{ password_hash: string }>('SELECT password_hash FROM credentials WHERE user_id = $1', [userId]);
    return rows[0]?.password_hash ?? null;
  }

  async activeAdmins(tx: Tx): Promise<number> {
    const { rows } = await tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM users WHERE role = 'admin' AND active`);
    return rows[0].n;
  }
}
