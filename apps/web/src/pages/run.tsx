import { useEffect, useRef, useState } from 'react';
import type { LogLine, Run } from '../../../../libs/contracts/src/ci/runs';
import { api } from '../api';
import { ErrorBox, formatDate, Loading } from '../ui';
import { StatusBadge } from './runs';

const ENDED = new Set(['succeeded', 'failed', 'cancelled', 'timed_out']);

/** One run: its status and its log, live over Server-Sent Events (resumes by itself), auto-scrolled. */
export function RunPage({ id }: { id: string }) {
  const [run, setRun] = useState<Run | null>(null);
  const [lines, setLines] = useState<LogLine[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [follow, setFollow] = useState(true);
  const logRef = useRef<HTMLPreElement>(null);

  useEffect(() => {
    const source = new EventSource(`/api/v1/runs/${id}/events`);
    source.addEventListener('status', (event) => {
      const next = JSON.parse((event as MessageEvent<string>).data) as Run;
      setRun(next);
      if (ENDED.has(next.status)) source.close();
    });
    source.addEventListener('log', (event) => {
      const line = JSON.parse((event as MessageEvent<string>).data) as LogLine;
      setLines((current) => (current.length && current[current.length - 1].seq >= line.seq ? current : [...current, line]));
      // Output means the run has started, even if its `running` status event has not arrived yet.
      setRun((current) => (current && current.status === 'queued' ? { ...current, status: 'running' } : current));
    });
    source.onerror = () => {
      // EventSource reconnects by itself (Last-Event-ID); a run that cannot be read says why.
      if (source.readyState === EventSource.CLOSED) api<Run>('GET', `/api/v1/runs/${id}`).then(setRun, setError);
    };
    return () => source.close();
  }, [id]);

  useEffect(() => {
    if (follow && logRef.current) logRef.current.scrollTop = logRef.current.scrollHeight;
  }, [lines, follow]);

  const cancel = () => api('POST', `/api/v1/runs/${id}/cancel`).catch(setError);

  return (
    <section>
      <ErrorBox error={error} />
      {!run && !error ? <Loading what="the run" /> : null}
      {run ? (
        <>
          <h2>{run.repo} · {run.job} #{run.number} <StatusBadge status={run.status} /></h2>
          <p className="muted">
            Started {formatDate(run.startedAt)} · ended {formatDate(run.endedAt)}
            {run.exitCode !== null ? ` · exit code ${run.exitCode}` : ''} · by {run.triggeredBy.name}
            {Object.keys(run.params).length ? ` · params ${Object.entries(run.params).map(([k, v]) => `${k}=${v}`).join(' ')}` : ''}
          </p>
          <div className="toolbar">
            {!ENDED.has(run.status) ? <button type="button" className="danger" onClick={cancel} disabled={run.cancelRequested}>{run.cancelRequested ? 'Cancelling…' : 'Cancel run'}</button> : null}
            <label className="check"><input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} />Follow the log</label>
          </div>
        </>
      ) : null}
      <pre className="log" ref={logRef} aria-label="Run log">{lines.length ? lines.map((line) => line.text).join('\n') : run && ENDED.has(run.status) ? '(no output)' : 'Waiting for output…'}</pre>
    </section>
  );
}
