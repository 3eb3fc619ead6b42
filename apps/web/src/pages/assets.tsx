import { useState, type FormEvent } from 'react';
import type { Asset } from '../../../../libs/contracts/src/assets/requests';
import type { Repo } from '../../../../libs/contracts/src/identity/repos';
import { api, ApiError, csrfToken } from '../api';
import { Empty, ErrorBox, formatDate, Loading, useLoad } from '../ui';

const assetUrl = (repo: string, path: string) => `/api/v1/repos/${repo}/assets/${path.split('/').map(encodeURIComponent).join('/')}`;

function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** Release assets: browse a repository by prefix, download, upload with a progress bar, delete. */
export function AssetsPage() {
  const repos = useLoad(() => api<{ items: Repo[] }>('GET', '/api/v1/repos'));
  const [repo, setRepo] = useState('');
  const chosen = repo || repos.data?.items[0]?.fullName || '';
  return (
    <section>
      <h2>Assets</h2>
      {repos.loading && !repos.data ? <Loading what="repositories" /> : null}
      <ErrorBox error={repos.error} />
      {repos.data && repos.data.items.length === 0 ? <Empty>No repositories yet: assets live in a repository.</Empty> : null}
      {repos.data && repos.data.items.length > 0 ? (
        <>
          <label className="narrow">Repository
            <select value={chosen} onChange={(e) => setRepo(e.target.value)}>
              {repos.data.items.map((r) => <option key={r.id} value={r.fullName}>{r.fullName}</option>)}
            </select>
          </label>
          <RepoAssets key={chosen} repo={chosen} />
        </>
      ) : null}
    </section>
  );
}

function RepoAssets({ repo }: { repo: string }) {
  const [prefix, setPrefix] = useState('');
  const [applied, setApplied] = useState('');
  const list = useLoad(() => api<{ items: Asset[] }>('GET', `/api/v1/repos/${repo}/assets?limit=200${applied ? `&prefix=${encodeURIComponent(applied)}` : ''}`));
  const [error, setError] = useState<unknown>(null);
  const browse = (event: FormEvent) => {
    event.preventDefault();
    setApplied(prefix);
    setTimeout(list.reload);
  };
  const remove = async (asset: Asset) => {
    setError(null);
    try {
      await api('DELETE', assetUrl(repo, asset.path));
    } catch (caught) {
      setError(caught);
    }
    list.reload();
  };
  return (
    <>
      <Upload repo={repo} onUploaded={list.reload} />
      <form className="card inline" onSubmit={browse} aria-label="Browse by prefix">
        <label>Prefix<input name="prefix" value={prefix} onChange={(e) => setPrefix(e.target.value)} placeholder="v1.2/" /></label>
        <button type="submit" className="secondary">Browse</button>
      </form>
      <ErrorBox error={error} />
      {list.loading && !list.data ? <Loading what="assets" /> : null}
      <ErrorBox error={list.error} />
      {list.data && list.data.items.length === 0 ? <Empty>No assets{applied ? ` under “${applied}”` : ''} yet.</Empty> : null}
      {list.data && list.data.items.length > 0 ? (
        <table aria-label="Assets">
          <thead><tr><th>Path</th><th>Size</th><th>Type</th><th>SHA-256</th><th>Uploaded</th><th /></tr></thead>
          <tbody>
            {list.data.items.map((asset) => (
              <tr key={asset.path} data-asset={asset.path}>
                <td><a href={assetUrl(repo, asset.path)} download>{asset.path}</a></td>
                <td>{size(asset.size)}</td>
                <td>{asset.contentType}</td>
                <td><code title={asset.sha256}>{asset.sha256.slice(0, 12)}…</code></td>
                <td>{formatDate(asset.uploadedAt)} by {asset.uploadedBy.name}</td>
                <td className="actions"><button type="button" className="danger" onClick={() => remove(asset)}>Delete</button></td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </>
  );
}

/** XMLHttpRequest, not fetch: only it reports upload progress. The body is the file's bytes (streamed to S3 by the gateway). */
function Upload({ repo, onUploaded }: { repo: string; onUploaded: () => void }) {
  const [file, setFile] = useState<File | null>(null);
  const [path, setPath] = useState('');
  const [progress, setProgress] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!file) return;
    const target = path || file.name;
    setError(null);
    setDone(null);
    setProgress(0);
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', assetUrl(repo, target));
    xhr.setRequestHeader('content-type', file.type || 'application/octet-stream');
    xhr.setRequestHeader('x-csrf-token', csrfToken());
    xhr.setRequestHeader('accept', 'application/json');
    xhr.upload.onprogress = (e) => e.lengthComputable && setProgress(e.loaded / e.total);
    xhr.onload = () => {
      setProgress(null);
      if (xhr.status === 200 || xhr.status === 201) {
        setDone(target);
        onUploaded();
        return;
      }
      try {
        const envelope = JSON.parse(xhr.responseText) as { error: { code: string; message: string; requestId?: string } };
        setError(new ApiError(xhr.status, envelope.error.code, envelope.error.message, envelope.error.requestId));
      } catch {
        setError(new ApiError(xhr.status, 'http_error', `The upload failed with ${xhr.status}.`));
      }
    };
    xhr.onerror = () => {
      setProgress(null);
      setError(new ApiError(0, 'network_error', 'The upload was interrupted.'));
    };
    xhr.send(file);
  };

  return (
    <form className="card inline" onSubmit={submit} aria-label="Upload an asset">
      <label>File<input name="file" type="file" onChange={(e) => setFile(e.target.files?.[0] ?? null)} required /></label>
      <label>Path (default: the file name)<input name="asset-path" value={path} onChange={(e) => setPath(e.target.value)} placeholder="v1.2/app.tar.gz" /></label>
      <button type="submit" disabled={progress !== null}>Upload</button>
      {progress !== null ? <progress aria-label="Upload progress" max={1} value={progress} /> : null}
      {done ? <span className="badge good" role="status">uploaded {done}</span> : null}
      <ErrorBox error={error} />
    </form>
  );
}
