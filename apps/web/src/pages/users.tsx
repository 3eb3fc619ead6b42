import { useState, type FormEvent } from 'react';
import type { User } from '../../../../libs/contracts/src/identity/users';
import { api, ApiError } from '../api';
import { Empty, ErrorBox, formatDate, Loading, SecretReveal, useLoad, useAction } from '../ui';

/** The safeguards of the API, said plainly. */
const SAFEGUARDS: Record<string, string> = {
  last_admin: 'Refused: this would leave no active administrator. Make someone else an admin first.',
  cannot_modify_self: 'Refused: you cannot do this to your own account here (change your own password on the Password page).',
};

function explain(error: unknown): unknown {
  return error instanceof ApiError && SAFEGUARDS[error.code] ? new ApiError(error.status, error.code, SAFEGUARDS[error.code], error.requestId) : error;
}

export function UsersPage({ me }: { me: { id: string } }) {
  const users = useLoad(() => api<{ items: User[] }>('GET', '/api/v1/users?limit=100'));
  const [secret, setSecret] = useState<{ label: string; value: string } | null>(null);
  const { act, error, setError } = useAction(users.reload, explain);

  return (
    <section>
      <h2>Users</h2>
      {secret ? <SecretReveal label={secret.label} secret={secret.value} onDone={() => setSecret(null)} /> : null}
      <CreateUser onCreated={(username, password) => { if (password) setSecret({ label: `password of ${username}`, value: password }); users.reload(); }} />
      <ErrorBox error={error} />
      {users.loading && !users.data ? <Loading what="users" /> : null}
      <ErrorBox error={users.error} />
      {users.data && users.data.items.length === 0 ? <Empty>No users.</Empty> : null}
      {users.data && users.data.items.length > 0 ? (
        <table aria-label="Users">
          <thead><tr><th>Username</th><th>Role</th><th>Status</th><th>Created</th><th /></tr></thead>
          <tbody>
            {users.data.items.map((user) => (
              <tr key={user.id} data-username={user.username}>
                <td>{user.username}{user.id === me.id ? ' (you)' : ''}</td>
                <td>
                  <select aria-label={`role of ${user.username}`} value={user.role} onChange={(e) => act(() => api('PATCH', `/api/v1/users/${user.id}`, { role: e.target.value }))}>
                    <option value="member">member</option>
                    <option value="admin">admin</option>
                  </select>
                </td>
                <td>{user.active ? <span className="badge good">active</span> : <span className="badge bad">deactivated</span>}</td>
                <td>{formatDate(user.createdAt)}</td>
                <td className="actions">
                  {user.active
                    ? <button type="button" className="danger" onClick={() => act(() => api('POST', `/api/v1/users/${user.id}/deactivate`))}>Deactivate</button>
                    : <button type="button" className="secondary" onClick={() => act(() => api('POST', `/api/v1/users/${user.id}/activate`))}>Activate</button>}
                  <button type="button" className="secondary" onClick={() => act(async () => {
                    const password = randomPassword();
                    await api('PUT', `/api/v1/users/${user.id}/password`, { password });
                    setSecret({ label: `new password of ${user.username}`, value: password });
                  })}>Reset password</button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}

function randomPassword(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(18));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_');
}

function CreateUser({ onCreated }: { onCreated: (username: string, generatedPassword?: string) => void }) {
  const [username, setUsername] = useState('');
  const [role, setRole] = useState<'member' | 'admin'>('member');
  const [error, setError] = useState<unknown>(null);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    try {
      const created = await api<{ user: User; generatedPassword?: string }>('POST', '/api/v1/users', { username, role });
      onCreated(created.user.username, created.generatedPassword);
      setUsername('');
    } catch (caught) {
      setError(caught);
    }
  };
  return (
    <form onSubmit={submit} className="card inline" aria-label="Create a user">
      <label>Username<input name="new-username" value={username} onChange={(e) => setUsername(e.target.value)} required pattern="[a-z0-9-]{1,39}" /></label>
      <label>Role<select value={role} onChange={(e) => setRole(e.target.value as 'member' | 'admin')}><option value="member">member</option><option value="admin">admin</option></select></label>
      <button type="submit">Create user</button>
      <ErrorBox error={error} />
    </form>
  );
}
