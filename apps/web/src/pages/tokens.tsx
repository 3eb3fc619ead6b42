import { useState, type FormEvent } from 'react';
import type { Scope } from '../../../../libs/contracts/src/principal';
import type { Pat } from '../../../../libs/contracts/src/identity/tokens';
import { api } from '../api';
import { Empty, ErrorBox, formatDate, Loading, SecretReveal, useLoad, useAction } from '../ui';

const USER_SCOPES = ['repo:read', 'repo:write', 'assets:write', 'runs:write', 'tokens:manage'] as const satisfies readonly Scope[];
const ADMIN_SCOPES = ['users:admin', 'runners:manage'] as const satisfies readonly Scope[];

interface Created { token: string; name: string }

export function TokensPage({ me }: { me: { username: string; role: string; id: string } }) {
  const tokens = useLoad(() => api<{ items: Pat[] }>('GET', '/api/v1/user/tokens'));
  const [created, setCreated] = useState<Created | null>(null);
  const { act, error: actionError } = useAction(tokens.reload);
  const revoke = (pat: Pat) => act(async () => void (await api('DELETE', `/api/v1/user/tokens/${pat.id}`)));
  const rotate = (pat: Pat) => act(async () => {
    const fresh = await api<{ token: string; name: string }>('POST', `/api/v1/user/tokens/${pat.id}/rotate`);
    setCreated({ token: fresh.token, name: fresh.name });
  });

  return (
    <>
      <section>
        <h2>Profile</h2>
        <p><strong>{me.username}</strong> · role <span className="badge">{me.role}</span></p>
      </section>
      <section>
        <h2>Personal access tokens</h2>
        {created ? <SecretReveal label={`token “${created.name}”`} secret={created.token} onDone={() => setCreated(null)} /> : null}
        <CreateToken admin={me.role === 'admin'} onCreated={(token) => { setCreated(token); tokens.reload(); }} />
        <ErrorBox error={actionError} />
        {tokens.loading && !tokens.data ? <Loading what="tokens" /> : null}
        <ErrorBox error={tokens.error} />
        {tokens.data && tokens.data.items.length === 0 ? <Empty>No personal access tokens yet. Create one above to use the API or the gantry CLI.</Empty> : null}
        {tokens.data && tokens.data.items.length > 0 ? (
          <table aria-label="Personal access tokens">
            <thead><tr><th>Name</th><th>Prefix</th><th>Scopes</th><th>Expires</th><th>Last used</th><th>Status</th><th /></tr></thead>
            <tbody>
              {tokens.data.items.map((pat) => (
                <tr key={pat.id} data-token-name={pat.name}>
                  <td>{pat.name}</td>
                  <td><code>{pat.prefix}…</code></td>
                  <td>{pat.scopes.join(', ')}</td>
                  <td>{pat.expiresAt ? formatDate(pat.expiresAt) : 'never'}</td>
                  <td>{pat.lastUsedAt ? `${formatDate(pat.lastUsedAt)}${pat.lastUsedIp ? ` from ${pat.lastUsedIp}` : ''}` : 'never'}</td>
                  <td>{pat.revokedAt ? <span className="badge bad">revoked</span> : <span className="badge good">active</span>}</td>
                  <td className="actions">
                    {!pat.revokedAt ? <button type="button" className="secondary" onClick={() => rotate(pat)}>Rotate</button> : null}
                    {!pat.revokedAt ? <button type="button" className="danger" onClick={() => revoke(pat)}>Revoke</button> : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
      </section>
    </>
  );
}

function CreateToken({ admin, onCreated }: { admin: boolean; onCreated: (created: Created) => void }) {
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<Scope[]>(['repo:read']);
  const [days, setDays] = useState(90);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const choices: readonly Scope[] = admin ? [...USER_SCOPES, ...ADMIN_SCOPES] : USER_SCOPES;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const created = await api<{ token: string; name: string }>('POST', '/api/v1/user/tokens', { name, scopes, expiresInDays: days });
      onCreated({ token: created.token, name: created.name });
      setName('');
    } catch (caught) {
      setError(caught);
    }
    setBusy(false);
  };
  const toggle = (scope: Scope) => setScopes((current) => (current.includes(scope) ? current.filter((s) => s !== scope) : [...current, scope]));

  return (
    <form onSubmit={submit} className="card" aria-label="Create a token">
      <h3>New token</h3>
      <label>Name<input name="token-name" value={name} onChange={(e) => setName(e.target.value)} required maxLength={100} placeholder="laptop CLI" /></label>
      <fieldset>
        <legend>Scopes</legend>
        {choices.map((scope) => (
          <label key={scope} className="check"><input type="checkbox" checked={scopes.includes(scope)} onChange={() => toggle(scope)} />{scope}</label>
        ))}
      </fieldset>
      <label>Expires in (days)<input name="expires" type="number" min={1} max={366} value={days} onChange={(e) => setDays(Number(e.target.value))} required /></label>
      <ErrorBox error={error} />
      <button type="submit" disabled={busy}>Create token</button>
    </form>
  );
}
