import { useState, type FormEvent } from 'react';
import { errorOf } from '../api';
import { safeNext } from '../router';
import { ErrorBox } from '../ui';

const NOTICES: Record<string, string> = {
  signed_out: 'Your session has ended. Please sign in again.',
  signed_out_now: 'You are signed out.',
};

export function LoginPage() {
  const params = new URLSearchParams(location.search);
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const notice = NOTICES[params.get('notice') ?? ''];

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const response = await fetch('/console/login', {
        method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify({ username, password }), credentials: 'same-origin',
      });
      if (!response.ok) throw await errorOf(response);
      location.assign(safeNext(params.get('next')));
    } catch (caught) {
      setError(caught);
      setBusy(false);
    }
  };

  return (
    <main className="login">
      <form onSubmit={submit} aria-label="Sign in">
        <h1>Gantry</h1>
        <p className="muted">Sign in to the console</p>
        {notice ? <div className="notice" role="status">{notice}</div> : null}
        <label>Username<input name="username" autoComplete="username" value={username} onChange={(e) => setUsername(e.target.value)} required autoFocus /></label>
        <label>Password<input name="password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required /></label>
        <ErrorBox error={error} />
        <button type="submit" disabled={busy}>{busy ? 'Signing in…' : 'Sign in'}</button>
      </form>
    </main>
  );
}
