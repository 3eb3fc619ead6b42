import { StrictMode, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import type { WhoAmI } from '../../../libs/contracts/src/principal';
import { api } from './api';
import { navigate, usePath } from './router';
import { ErrorBox, Loading } from './ui';
import { LoginPage } from './pages/login';
import { TokensPage } from './pages/tokens';
import { PasswordPage } from './pages/password';
import { UsersPage } from './pages/users';
import { RunsPage } from './pages/runs';
import { RunPage } from './pages/run';
import { RunnersPage } from './pages/runners';
import { AssetsPage } from './pages/assets';
import { ReposPage } from './pages/repos';
import './styles.css';

type Me = NonNullable<WhoAmI['user']>;

const PAGES: { path: string; title: string; admin?: boolean }[] = [
  { path: '/console', title: 'Profile & tokens' },
  { path: '/console/password', title: 'Password' },
  { path: '/console/repos', title: 'Repositories' },
  { path: '/console/runs', title: 'Runs' },
  { path: '/console/assets', title: 'Assets' },
  { path: '/console/admin/users', title: 'Users', admin: true },
  { path: '/console/admin/runners', title: 'Runners', admin: true },
];

const NOTICES: Record<string, string> = {
  admin_only: 'That page is for administrators only.',
  signed_out: 'Your session has ended. Please sign in again.',
};

function Shell() {
  const path = usePath();
  const [me, setMe] = useState<Me | null>(null);
  const [error, setError] = useState<unknown>(null);
  const notice = new URLSearchParams(location.search).get('notice');

  useEffect(() => {
    api<WhoAmI>('GET', '/api/v1/user').then((who) => setMe(who.user), setError);
  }, []);

  const signOut = async () => {
    await api('POST', '/console/logout').catch(() => undefined);
    location.assign('/login?notice=signed_out_now');
  };

  if (error) return <main className="page"><ErrorBox error={error} /></main>;
  if (!me) return <main className="page"><Loading what="your account" /></main>;
  const runId = /^\/console\/runs\/([0-9a-f-]{36})$/.exec(path)?.[1];
  const page = PAGES.find((p) => p.path === path) ?? (runId ? { path, title: 'Run' } : undefined);
  return (
    <>
      <header className="top">
        <span className="brand">Gantry</span>
        <nav>
          {PAGES.filter((p) => !p.admin || me.role === 'admin').map((p) => (
            <a key={p.path} href={p.path} className={p.path === path || (runId && p.path === '/console/runs') ? 'active' : ''} onClick={(event) => { event.preventDefault(); navigate(p.path); }}>{p.title}</a>
          ))}
        </nav>
        <span className="who">{me.username} <span className="badge">{me.role}</span></span>
        <button type="button" className="secondary" onClick={signOut}>Sign out</button>
      </header>
      <main className="page">
        {notice && NOTICES[notice] ? <div className="notice" role="status">{NOTICES[notice]}</div> : null}
        {path === '/console' ? <TokensPage me={me} /> : null}
        {path === '/console/password' ? <PasswordPage /> : null}
        {path === '/console/admin/users' ? <UsersPage me={me} /> : null}
        {path === '/console/runs' ? <RunsPage /> : null}
        {path === '/console/assets' ? <AssetsPage /> : null}
        {path === '/console/repos' ? <ReposPage /> : null}
        {path === '/console/admin/runners' ? <RunnersPage /> : null}
        {runId ? <RunPage id={runId} /> : null}
        {!page ? <ErrorBox error={new Error('There is no such page in the console.')} /> : null}
      </main>
    </>
  );
}

function App() {
  return location.pathname === '/login' ? <LoginPage /> : <Shell />;
}

createRoot(document.getElementById('root')!).render(<StrictMode><App /></StrictMode>);
