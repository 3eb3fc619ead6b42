import { useState, type FormEvent } from 'react';
import type { Job } from '../../../../libs/contracts/src/ci/jobs';
import type { Run } from '../../../../libs/contracts/src/ci/runs';
import { api } from '../api';
import { navigate } from '../router';
import { Empty, ErrorBox, formatDate, Loading, useLoad } from '../ui';

export function StatusBadge({ status }: { status: Run['status'] }) {
  const tone = status === 'succeeded' ? 'good' : status === 'queued' || status === 'running' ? '' : 'bad';
  return <span className={`badge ${tone} status-${status}`} data-status={status}>{status}</span>;
}

/** Every job the caller can see (start one with its parameters) and the recent runs of their repositories. */
export function RunsPage() {
  const data = useLoad(async () => {
    const jobs = (await api<{ items: Job[] }>('GET', '/api/v1/jobs')).items;
    const repos = [...new Set(jobs.map((job) => job.repo))];
    const runs = (await Promise.all(repos.map((repo) => api<{ items: Run[] }>('GET', `/api/v1/repos/${repo}/runs?limit=20`)))).flatMap((page) => page.items);
    runs.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    return { jobs, runs };
  });

  return (
    <>
      <section>
        <h2>Jobs</h2>
        {data.loading && !data.data ? <Loading what="jobs" /> : null}
        <ErrorBox error={data.error} />
        {data.data && data.data.jobs.length === 0 ? <Empty>No jobs yet. Define one with PUT /api/v1/repos/&#123;owner&#125;/&#123;repo&#125;/jobs/&#123;job&#125; or the gantry CLI.</Empty> : null}
        {data.data?.jobs.map((job) => <StartJob key={`${job.repo}/${job.name}`} job={job} />)}
      </section>
      <section>
        <h2>Recent runs</h2>
        {data.data && data.data.runs.length === 0 ? <Empty>No runs yet.</Empty> : null}
        {data.data && data.data.runs.length > 0 ? (
          <table aria-label="Runs">
            <thead><tr><th>Run</th><th>Status</th><th>Created</th><th>Ended</th><th>By</th></tr></thead>
            <tbody>
              {data.data.runs.map((run) => (
                <tr key={run.id}>
                  <td><a href={`/console/runs/${run.id}`} onClick={(e) => { e.preventDefault(); navigate(`/console/runs/${run.id}`); }}>{run.repo} · {run.job} #{run.number}</a></td>
                  <td><StatusBadge status={run.status} /></td>
                  <td>{formatDate(run.createdAt)}</td>
                  <td>{formatDate(run.endedAt)}</td>
                  <td>{run.triggeredBy.name}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
      </section>
    </>
  );
}

function StartJob({ job }: { job: Job }) {
  const [values, setValues] = useState<Record<string, string>>(() => Object.fromEntries(job.params.map((p) => [p.name, p.default ?? ''])));
  const [error, setError] = useState<unknown>(null);
  const start = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    try {
      const run = await api<Run>('POST', `/api/v1/repos/${job.repo}/jobs/${job.name}/runs`, job.params.length ? { params: values } : {});
      navigate(`/console/runs/${run.id}`);
    } catch (caught) {
      setError(caught);
    }
  };
  return (
    <form className="card inline" onSubmit={start} aria-label={`Start ${job.repo}/${job.name}`}>
      <strong>{job.repo} · {job.name}</strong>
      {job.params.map((param) => (
        <label key={param.name}>{param.name}{param.required ? ' *' : ''}
          <input value={values[param.name] ?? ''} required={param.required} title={param.description} onChange={(e) => setValues({ ...values, [param.name]: e.target.value })} />
        </label>
      ))}
      <button type="submit">Start run</button>
      <ErrorBox error={error} />
    </form>
  );
}
