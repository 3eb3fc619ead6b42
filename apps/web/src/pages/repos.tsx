import { useState, type FormEvent } from 'react';
import type { z } from 'zod';
import type { ApiKeySchema, CreatedApiKeySchema } from '../../../../libs/contracts/src/identity/api-keys';
import type { MemberSchema, Repo } from '../../../../libs/contracts/src/identity/repos';
import { api } from '../api';
import { Empty, ErrorBox, formatDate, Loading, SecretReveal, useLoad, useAction } from '../ui';

type ApiKey = z.infer<typeof ApiKeySchema>;
type CreatedApiKey = z.infer<typeof CreatedApiKeySchema>;
type Member = z.infer<typeof MemberSchema>;
type KeyScope = ApiKey['scopes'][number];
const KEY_SCOPES: readonly KeyScope[] = ['repo:read', 'assets:write', 'runs:write'] satisfies readonly KeyScope[];

/** Repositories: create one; for the chosen one, its members and its API keys (one-time reveal). */
export function ReposPage() {
  const repos = useLoad(() => api<{ items: Repo[] }>('GET', '/api/v1/repos'));
  const [chosen, setChosen] = useState('');
  const current = chosen || repos.data?.items[0]?.fullName || '';
  return (
    <>
      <section>
        <h2>Repositories</h2>
        <CreateRepo onCreated={(repo) => { setChosen(repo.fullName); repos.reload(); }} />
        {repos.loading && !repos.data ? <Loading what="repositories" /> : null}
        <ErrorBox error={repos.error} />
        {repos.data && repos.data.items.length === 0 ? <Empty>No repositories yet. Create the first one above.</Empty> : null}
        {repos.data && repos.data.items.length > 0 ? (
          <table aria-label="Repositories">
            <thead><tr><th>Name</th><th>Visibility</th><th>Description</th><th>Created</th><th /></tr></thead>
            <tbody>
              {repos.data.items.map((repo) => (
                <tr key={repo.id} data-repo={repo.fullName} className={repo.fullName === current ? 'selected' : ''}>
                  <td>{repo.fullName}</td>
                  <td><span className="badge">{repo.visibility}</span></td>
                  <td>{repo.description ?? '—'}</td>
                  <td>{formatDate(repo.createdAt)}</td>
                  <td className="actions"><button type="button" className="secondary" onClick={() => setChosen(repo.fullName)}>Manage</button></td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
      </section>
      {current ? <RepoDetails key={current} repo={current} /> : null}
    </>
  );
}

function CreateRepo({ onCreated }: { onCreated: (repo: Repo) => void }) {
  const [name, setName] = useState('');
  const [visibility, setVisibility] = useState<'private' | 'public'>('private');
  const [error, setError] = useState<unknown>(null);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    try {
      onCreated(await api<Repo>('POST', '/api/v1/repos', { name, visibility }));
      setName('');
    } catch (caught) {
      setError(caught);
    }
  };
  return (
    <form className="card inline" onSubmit={submit} aria-label="Create a repository">
      <label>Name<input name="repo-name" value={name} onChange={(e) => setName(e.target.value)} required /></label>
      <label>Visibility<select value={visibility} onChange={(e) => setVisibility(e.target.value as 'private' | 'public')}><option value="private">private</option><option value="public">public</option></select></label>
      <button type="submit">Create repository</button>
      <ErrorBox error={error} />
    </form>
  );
}

function RepoDetails({ repo }: { repo: string }) {
  const data = useLoad(async () => {
    const members = await api<{ items: Member[] }>('GET', `/api/v1/repos/${repo}/members`);
    const keys = await api<{ items: ApiKey[] }>('GET', `/api/v1/repos/${repo}/keys`).catch(() => null); // repository admins only
    return { members: members.items, keys: keys?.items ?? null };
  });
  const [secret, setSecret] = useState<CreatedApiKey | null>(null);
  const [member, setMember] = useState('');
  const [role, setRole] = useState<Member['role']>('read');
  const [keyName, setKeyName] = useState('');
  const [scopes, setScopes] = useState<KeyScope[]>(['repo:read']);
  const { act, error, setError } = useAction(data.reload);

  return (
    <section aria-label={`Repository ${repo}`}>
      <h2>{repo}</h2>
      <ErrorBox error={error} />
      {data.loading && !data.data ? <Loading what="members and keys" /> : null}
      <ErrorBox error={data.error} />
      <h3>Members</h3>
      <form className="card inline" aria-label="Add a member" onSubmit={(e) => { e.preventDefault(); void act(() => api('PUT', `/api/v1/repos/${repo}/members/${encodeURIComponent(member)}`, { role })); }}>
        <label>Username<input name="member" value={member} onChange={(e) => setMember(e.target.value)} required /></label>
        <label>Role<select value={role} onChange={(e) => setRole(e.target.value as Member['role'])}><option>read</option><option>write</option><option>admin</option></select></label>
        <button type="submit">Add or change</button>
      </form>
      {data.data && data.data.members.length === 0 ? <Empty>No members besides the owner.</Empty> : null}
      {data.data && data.data.members.length > 0 ? (
        <table aria-label="Members">
          <thead><tr><th>User</th><th>Role</th><th /></tr></thead>
          <tbody>
            {data.data.members.map((m) => (
              <tr key={m.userId} data-member={m.username}>
                <td>{m.username}</td><td><span className="badge">{m.role}</span></td>
                <td className="actions"><button type="button" className="danger" onClick={() => act(() => api('DELETE', `/api/v1/repos/${repo}/members/${encodeURIComponent(m.username)}`))}>Remove</button></td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <h3>API keys</h3>
      {data.data && data.data.keys === null ? <Empty>Only the repository's admins see its API keys.</Empty> : null}
      {secret ? <SecretReveal label={`API key “${secret.name}”`} secret={secret.token} onDone={() => setSecret(null)} /> : null}
      {data.data?.keys ? (
        <>
          <form className="card inline" aria-label="Create an API key" onSubmit={(e) => { e.preventDefault(); void act(async () => { setSecret(await api<CreatedApiKey>('POST', `/api/v1/repos/${repo}/keys`, { name: keyName, scopes })); setKeyName(''); }); }}>
            <label>Key name<input name="key-name" value={keyName} onChange={(e) => setKeyName(e.target.value)} required /></label>
            <fieldset><legend>Scopes</legend>
              {KEY_SCOPES.map((scope) => (
                <label key={scope} className="check"><input type="checkbox" checked={scopes.includes(scope)} onChange={() => setScopes(scopes.includes(scope) ? scopes.filter((s) => s !== scope) : [...scopes, scope])} />{scope}</label>
              ))}
            </fieldset>
            <button type="submit">Create API key</button>
          </form>
          {data.data.keys.length === 0 ? <Empty>No API keys yet.</Empty> : (
            <table aria-label="API keys">
              <thead><tr><th>Name</th><th>Prefix</th><th>Scopes</th><th>Last used</th><th>Status</th><th /></tr></thead>
              <tbody>
                {data.data.keys.map((key) => (
                  <tr key={key.id} data-key={key.name}>
                    <td>{key.name}</td><td><code>{key.prefix}…</code></td><td>{key.scopes.join(', ')}</td>
                    <td>{key.lastUsedAt ? formatDate(key.lastUsedAt) : 'never'}</td>
                    <td>{key.revokedAt ? <span className="badge bad">revoked</span> : <span className="badge good">active</span>}</td>
                    <td className="actions">{!key.revokedAt ? <button type="button" className="danger" onClick={() => act(() => api('DELETE', `/api/v1/repos/${repo}/keys/${key.id}`))}>Revoke</button> : null}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      ) : null}
    </section>
  );
}
