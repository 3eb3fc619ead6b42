import { useState, type FormEvent } from 'react';
import type { z } from 'zod';
import type { CreatedInstallTokenSchema, InstallTokenSchema, RunnerSchema } from '../../../../libs/contracts/src/identity/runners';
import { api } from '../api';
import { Empty, ErrorBox, formatDate, Loading, SecretReveal, useLoad, useAction } from '../ui';

type InstallToken = z.infer<typeof InstallTokenSchema>;
type CreatedInstallToken = z.infer<typeof CreatedInstallTokenSchema>;
type Runner = z.infer<typeof RunnerSchema>;

const TONE: Record<InstallToken['status'], string> = { pending: '', used: 'good', expired: 'bad', cancelled: 'bad' };

/** Admin: install tokens (mint → one-time reveal with the command to paste, status, cancel) and runners (last seen, revoke). */
export function RunnersPage() {
  const data = useLoad(async () => {
    const [tokens, runners] = await Promise.all([
      api<{ items: InstallToken[] }>('GET', '/api/v1/install-tokens'),
      api<{ items: Runner[] }>('GET', '/api/v1/runners'),
    ]);
    return { tokens: tokens.items, runners: runners.items };
  });
  const [minted, setMinted] = useState<{ token: string; command: string } | null>(null);
  const { act, error, setError } = useAction(data.reload);

  return (
    <>
      <section>
        <h2>Install tokens</h2>
        <p className="muted">An install token lets one build machine register as a runner: single use, valid 15 minutes.</p>
        {minted ? (
          <>
            <SecretReveal label="install token" secret={minted.token} onDone={() => setMinted(null)} />
            <p>Run this on the build machine:</p>
            <pre className="command" data-testid="register-command">{minted.command}</pre>
          </>
        ) : null}
        <MintToken onMinted={(created, name) => {
          setMinted({ token: created.token, command: `gantry runner register --url ${location.origin} --install-token ${created.token} --name ${name}` });
          data.reload();
        }} />
        <ErrorBox error={error} />
        {data.loading && !data.data ? <Loading what="install tokens and runners" /> : null}
        <ErrorBox error={data.error} />
        {data.data && data.data.tokens.length === 0 ? <Empty>No install tokens yet.</Empty> : null}
        {data.data && data.data.tokens.length > 0 ? (
          <table aria-label="Install tokens">
            <thead><tr><th>Description</th><th>Labels</th><th>Status</th><th>Created</th><th>Expires</th><th>Used</th><th /></tr></thead>
            <tbody>
              {data.data.tokens.map((token) => (
                <tr key={token.id} data-install-token={token.id}>
                  <td>{token.description ?? '—'}</td>
                  <td>{token.labels.join(', ') || '—'}</td>
                  <td><span className={`badge ${TONE[token.status]}`} data-status={token.status}>{token.status}</span></td>
                  <td>{formatDate(token.createdAt)}</td>
                  <td>{formatDate(token.expiresAt)}</td>
                  <td>{formatDate(token.usedAt)}</td>
                  <td className="actions">{token.status === 'pending' ? <button type="button" className="danger" onClick={() => act(() => api('DELETE', `/api/v1/install-tokens/${token.id}`))}>Cancel</button> : null}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
      </section>
      <section>
        <h2>Runners</h2>
        {data.data && data.data.runners.length === 0 ? <Empty>No runners registered. Mint an install token above and run the command on a build machine.</Empty> : null}
        {data.data && data.data.runners.length > 0 ? (
          <table aria-label="Runners">
            <thead><tr><th>Name</th><th>Labels</th><th>Registered</th><th>Last seen</th><th>Status</th><th /></tr></thead>
            <tbody>
              {data.data.runners.map((runner) => (
                <tr key={runner.id} data-runner={runner.name}>
                  <td>{runner.name}</td>
                  <td>{runner.labels.join(', ') || '—'}</td>
                  <td>{formatDate(runner.createdAt)}</td>
                  <td>{runner.lastSeenAt ? formatDate(runner.lastSeenAt) : 'never'}</td>
                  <td>{runner.revokedAt ? <span className="badge bad">revoked</span> : <span className="badge good">active</span>}</td>
                  <td className="actions">{!runner.revokedAt ? <button type="button" className="danger" onClick={() => act(() => api('DELETE', `/api/v1/runners/${runner.id}`))}>Revoke</button> : null}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
      </section>
    </>
  );
}

function MintToken({ onMinted }: { onMinted: (created: CreatedInstallToken, name: string) => void }) {
  const [description, setDescription] = useState('');
  const [labels, setLabels] = useState('');
  const [name, setName] = useState('builder-1');
  const [error, setError] = useState<unknown>(null);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    try {
      const list = labels.split(',').map((label) => label.trim()).filter(Boolean);
      const created = await api<CreatedInstallToken>('POST', '/api/v1/install-tokens', { ...(description ? { description } : {}), ...(list.length ? { labels: list } : {}) });
      onMinted(created, name);
    } catch (caught) {
      setError(caught);
    }
  };
  return (
    <form className="card inline" onSubmit={submit} aria-label="Mint an install token">
      <label>Description<input name="description" value={description} onChange={(e) => setDescription(e.target.value)} maxLength={200} placeholder="rack 3, arm64" /></label>
      <label>Labels (comma-separated)<input name="labels" value={labels} onChange={(e) => setLabels(e.target.value)} placeholder="linux, arm64" /></label>
      <label>Runner name<input name="runner-name" value={name} onChange={(e) => setName(e.target.value)} pattern="[A-Za-z0-9_.\-]+" required /></label>
      <button type="submit">Mint install token</button>
      <ErrorBox error={error} />
    </form>
  );
}
