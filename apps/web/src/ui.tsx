import { useCallback, useEffect, useState, type ReactNode } from 'react';
import { ApiError } from './api';

export function Loading({ what }: { what: string }) {
  return <p className="loading" role="status">Loading {what}…</p>;
}

export function ErrorBox({ error }: { error: unknown }) {
  if (!error) return null;
  const e = error instanceof ApiError ? error : new ApiError(0, 'error', String((error as Error)?.message ?? error));
  return (
    <div className="error" role="alert">
      <strong>{e.message}</strong>
      <span className="code">{e.code}{e.requestId ? ` · request ${e.requestId}` : ''}</span>
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty">{children}</p>;
}

export function formatDate(value: string | null): string {
  return value ? new Date(value).toLocaleString() : '—';
}

/** Loads something from the API with loading and error states; `reload` fetches again. */
export function useLoad<T>(load: () => Promise<T>): { data: T | null; error: unknown; loading: boolean; reload: () => void } {
  const [state, setState] = useState<{ data: T | null; error: unknown; loading: boolean }>({ data: null, error: null, loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => live && setState({ data, error: null, loading: false }),
      (error: unknown) => live && setState({ data: null, error, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

/**
 * Runs a change the page asked for: the API's refusal (through `describe`) becomes `error` for an
 * ErrorBox, and the page's data is reloaded either way.
 */
export function useAction(reload: () => void, describe: (error: unknown) => unknown = (error) => error) {
  const [error, setError] = useState<unknown>(null);
  const act = async (run: () => Promise<unknown>) => {
    setError(null);
    try {
      await run();
    } catch (caught) {
      setError(describe(caught));
    }
    reload();
  };
  return { act, error, setError };
}

/** The one-time reveal of a secret: shown once, with a copy button and a warning. */
export function SecretReveal({ label, secret, onDone }: { label: string; secret: string; onDone: () => void }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(secret);
      setCopied(true);
    } catch {
      setCopied(false);
    }
  };
  return (
    <div className="reveal" role="region" aria-label={label}>
      <p className="warning">⚠ Copy this {label} now. It is shown only this once and cannot be retrieved later.</p>
      <div className="secret-row">
        <code data-testid="secret">{secret}</code>
        <button type="button" onClick={copy}>{copied ? 'Copied' : 'Copy'}</button>
      </div>
      <button type="button" className="secondary" onClick={onDone}>I have stored it</button>
    </div>
  );
}
