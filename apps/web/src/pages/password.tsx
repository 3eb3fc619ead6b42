import { useState, type FormEvent } from 'react';
import { api } from '../api';
import { ErrorBox } from '../ui';

export function PasswordPage() {
  const [currentPassword, setCurrent] = useState('');
  const [newPassword, setNew] = useState('');
  const [repeat, setRepeat] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    setDone(false);
    if (newPassword !== repeat) return setError(new Error('The two new passwords differ.'));
    try {
      await api('PUT', '/api/v1/user/password', { currentPassword, newPassword });
      setDone(true);
      setCurrent('');
      setNew('');
      setRepeat('');
    } catch (caught) {
      setError(caught);
    }
  };

  return (
    <section>
      <h2>Change password</h2>
      <p className="muted">At least 12 characters. Your other sessions end; this one stays.</p>
      <form onSubmit={submit} className="stack" aria-label="Change password">
        <label>Current password<input type="password" autoComplete="current-password" value={currentPassword} onChange={(e) => setCurrent(e.target.value)} required /></label>
        <label>New password<input type="password" autoComplete="new-password" value={newPassword} onChange={(e) => setNew(e.target.value)} required minLength={12} /></label>
        <label>Repeat new password<input type="password" autoComplete="new-password" value={repeat} onChange={(e) => setRepeat(e.target.value)} required minLength={12} /></label>
        <ErrorBox error={error} />
        {done ? <div className="notice" role="status">Password changed. Your other sessions were signed out.</div> : null}
        <button type="submit">Change password</button>
      </form>
    </section>
  );
}
