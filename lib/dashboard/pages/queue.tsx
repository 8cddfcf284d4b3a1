// The queue: counts, live workers, jobs by status, a search by id or query, the dead list with retry (one or
// all), and each job's page with its live progress, its error, and cancel and retry.
import { type Context, Hono } from 'hono';
import type { ApiDeps } from '../../api/deps.ts';
import { UUID, cancelJob, retryJob } from '../../api/jobs.ts';
import { ApiError } from '../../errors.ts';
import type { JobStore } from '../../history/job-store.ts';
import { JOB_STATUSES, type Job, type JobStatus, isFinal } from '../../model/job.ts';
import { count, queryString, utc } from '../format.ts';
import type { JobEvents } from '../job-events.ts';
import { jobState } from '../job-state.ts';
import { ActionButton, Empty, Layout, notice, render } from '../layout.tsx';
import { type DashboardEnv, type Viewer, requireAdmin } from '../viewer.ts';

const LIST_LIMIT = 50;
/** How far back a search by query looks: the newest jobs of the recent index, as GET /jobs reads them. */
const SEARCH_DEPTH = 100;
/** Retry-all goes through the dead list in rounds of this many, at most this many rounds a request. */
const RETRY_ROUND = 100;
const RETRY_ROUNDS = 20;

function JobActions({ viewer, job }: { viewer: Viewer; job: Job }) {
  return (
    <>
      {!isFinal(job.status) ? <ActionButton viewer={viewer} action={`/ui/queue/jobs/${job.id}/cancel`} label="Cancel" kind="danger" /> : null}
      {job.status === 'failed' || job.status === 'dead' ? <ActionButton viewer={viewer} action={`/ui/queue/jobs/${job.id}/retry`} label="Retry" kind="primary" /> : null}
    </>
  );
}

function JobRows({ jobs, viewer }: { jobs: Job[]; viewer: Viewer }) {
  return (
    <table class="list jobs">
      <caption class="sr-only">Jobs</caption>
      <thead>
        <tr><th scope="col">Job</th><th scope="col">Status</th><th scope="col">Source</th><th scope="col">Query</th><th scope="col">Attempts</th><th scope="col">Created</th><th scope="col">Finished</th><th scope="col">Actions</th></tr>
      </thead>
      <tbody>
        {jobs.map((job) => (
          <tr data-job-id={job.id} data-status={job.status}>
            <th scope="row"><a href={`/ui/queue/jobs/${job.id}`}>{`${job.kind} ${job.id.slice(0, 8)}`}</a></th>
            <td><span class={`badge ${job.status}`}>{job.status}</span>{job.error ? <div class="muted">{job.error.code}</div> : null}</td>
            <td>{job.source || '—'}</td>
            <td>{job.query || '—'}</td>
            <td>{`${job.attempts}/${job.maxAttempts}`}</td>
            <td>{utc(job.createdAt)}</td>
            <td>{utc(job.finishedAt)}</td>
            <td class="actions"><JobActions viewer={viewer} job={job} /></td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function queueRoutes(deps: ApiDeps, store: JobStore, events: JobEvents) {
  const { queue } = deps;

  const findJob = async (id: string): Promise<Job> => {
    const job = UUID.test(id) ? await store.get(id) : null;
    if (!job) throw new ApiError(404, 'job_not_found', `no job with id "${id.slice(0, 64)}"`);
    return job;
  };

  const listPage = async (c: Context<DashboardEnv>) => {
    const statusParam = c.req.query('status') ?? '';
    const search = (c.req.query('search') ?? '').trim().slice(0, 200);
    if (statusParam && !(JOB_STATUSES as readonly string[]).includes(statusParam)) {
      throw new ApiError(400, 'invalid_status', `\`status\` must be one of ${JOB_STATUSES.join(', ')}`);
    }
    const status = (statusParam || undefined) as JobStatus | undefined;
    if (UUID.test(search)) {
      const job = await store.get(search);
      if (job) return c.redirect(`/ui/queue/jobs/${job.id}`, 303);
    }
    const [counts, workers, listed] = await Promise.all([
      queue.counts(),
      queue.liveWorkers(15_000),
      queue.list({ status, limit: search ? SEARCH_DEPTH : LIST_LIMIT }),
    ]);
    const needle = search.toLowerCase();
    const jobs = search ? listed.filter((job) => job.query.toLowerCase().includes(needle) || job.id.startsWith(needle)) : listed;
    const viewer = c.get('viewer');
    const figures: [string, number, JobStatus | null][] = [
      ['waiting', counts.pending, 'pending'],
      ['waiting to retry', counts.delayed, null],
      ['running', counts.processing, 'running'],
      ['completed in 24 h', counts.completed_24h, 'completed'],
      ['failed in 24 h', counts.failed_24h, 'failed'],
      ['cancelled in 24 h', counts.cancelled_24h, 'cancelled'],
      ['dead', counts.dead, 'dead'],
    ];
    return render(
      c,
      <Layout title="Queue" path="/ui/queue" viewer={viewer} notice={notice(c)}>
        <section class="figures" aria-label="Counts">
          {figures.map(([label, value, link]) => (
            <p>{link ? <a href={`/ui/queue?status=${link}`}><strong>{count(value)}</strong> {label}</a> : <><strong>{count(value)}</strong> {label}</>}</p>
          ))}
        </section>
        <section aria-labelledby="workers-h">
          <h2 id="workers-h">{`Live workers (${workers.length})`}</h2>
          {workers.length === 0 ? <Empty>No worker has sent a heartbeat in the last 15 s.</Empty> : (
            <ul class="workers">
              {workers.map((w) => <li>{`${w.host} pid ${w.pid}: ${w.running} of ${w.concurrency} slots busy, up since ${utc(w.started_at)}, seen ${utc(w.last_seen)}`}</li>)}
            </ul>
          )}
        </section>
        <section aria-labelledby="jobs-h">
          <h2 id="jobs-h">{status ? `Jobs: ${status}` : 'Recent jobs'}</h2>
          <form method="get" action="/ui/queue" class="filters" aria-label="Find jobs">
            <label>Status
              <select name="status">
                <option value="">any</option>
                {JOB_STATUSES.map((s) => <option value={s} selected={s === status}>{s}</option>)}
              </select>
            </label>
            <label class="grow">Job id or query <input type="search" name="search" value={search} /></label>
            <button type="submit" class="button primary">Find</button>
          </form>
          {status === 'dead' && jobs.length > 0 ? (
            <p><ActionButton viewer={viewer} action="/ui/queue/dead/retry-all" label={`Retry all ${count(counts.dead)} dead jobs`} kind="primary" /></p>
          ) : null}
          {search ? <p class="muted">{`Searched the newest ${SEARCH_DEPTH} ${status ?? ''} jobs for “${search}”.`}</p> : null}
          {jobs.length === 0 ? <Empty>No jobs.</Empty> : <JobRows jobs={jobs} viewer={viewer} />}
        </section>
      </Layout>,
    );
  };

  const jobPage = async (c: Context<DashboardEnv>) => {
    const job = await findJob(c.req.param('id') ?? '');
    const { state, children } = await jobState(store, job);
    const viewer = c.get('viewer');
    const shown = { ...job, status: state.status };
    return render(
      c,
      <Layout title={`Job ${job.id.slice(0, 8)}`} path="/ui/queue" viewer={viewer} notice={notice(c)}>
        <section class="job" data-job-live={state.final ? undefined : `/ui/queue/jobs/${job.id}/events`} aria-labelledby="state-h">
          <h2 id="state-h">State</h2>
          <dl class="facts">
            <dt>Id</dt><dd><code>{job.id}</code></dd>
            <dt>Kind</dt><dd>{job.kind}</dd>
            <dt>Source</dt><dd>{job.source || '—'}</dd>
            <dt>Query</dt><dd>{job.query || '—'}</dd>
            <dt>Status</dt><dd><span class={`badge ${state.status}`} data-field="status">{state.status}</span>{state.cancelRequested && !state.final ? ' (cancel requested)' : ''}</dd>
            <dt>Attempts</dt><dd data-field="attempts">{`${state.attempts}/${state.maxAttempts}`}</dd>
            <dt>{job.kind === 'scrape-all' ? 'Child jobs done' : 'Pages read'}</dt>
            <dd>
              <progress data-field="progress" max={state.pagesPlanned ?? undefined} value={state.pagesPlanned ? state.pagesDone : undefined} aria-label="Progress">{`${state.pagesDone}`}</progress>
              {' '}<span data-field="pages">{`${state.pagesDone}${state.pagesPlanned ? ` of ${state.pagesPlanned}` : ''}`}</span>
            </dd>
            <dt>Found</dt><dd data-field="found">{count(state.found)}</dd>
            <dt>New</dt><dd data-field="inserted">{count(state.inserted)}</dd>
            <dt>Created</dt><dd>{utc(job.createdAt)}</dd>
            <dt>Started</dt><dd>{utc(job.startedAt)}</dd>
            <dt>Finished</dt><dd>{utc(job.finishedAt)}</dd>
            <dt>Error</dt><dd data-field="error">{state.error ? `${state.error.code}: ${state.error.message}` : '—'}</dd>
            {job.previousError ? <><dt>Error before the retry</dt><dd>{`${job.previousError.code}: ${job.previousError.message}`}</dd></> : null}
          </dl>
          <p class="live muted" data-field="live" aria-live="polite"></p>
          <p class="actions"><JobActions viewer={viewer} job={shown} /></p>
        </section>
        {children.length > 0 ? (
          <section aria-labelledby="children-h">
            <h2 id="children-h">{`Child jobs (${children.length})`}</h2>
            <JobRows jobs={children} viewer={viewer} />
          </section>
        ) : null}
        <p><a href={`/ui/queue${queryString({ status: job.status })}`}>{`Other ${job.status} jobs`}</a></p>
      </Layout>,
    );
  };

  return new Hono<DashboardEnv>()
    .get('/', listPage)
    .get('/jobs/:id', jobPage)
    .get('/jobs/:id/events', async (c) => events.respond(c, (await findJob(c.req.param('id'))).id))
    .post('/jobs/:id/cancel', requireAdmin, async (c) => {
      const job = await findJob(c.req.param('id'));
      const outcome = await cancelJob(queue, job);
      return c.redirect(`/ui/queue/jobs/${job.id}?notice=job_${outcome}`, 303);
    })
    .post('/jobs/:id/retry', requireAdmin, async (c) => {
      const job = await findJob(c.req.param('id'));
      await retryJob(queue, job);
      return c.redirect(`/ui/queue/jobs/${job.id}?notice=job_retried`, 303);
    })
    .post('/dead/retry-all', requireAdmin, async (c) => {
      for (let round = 0; round < RETRY_ROUNDS; round++) {
        const dead = await queue.list({ status: 'dead', limit: RETRY_ROUND });
        if (dead.length === 0) break;
        // One that another request retried meanwhile is no longer dead: nothing to do for it.
        await Promise.all(dead.map((job) => queue.retry(job.id)));
      }
      return c.redirect('/ui/queue?status=dead&notice=dead_retried', 303);
    });
}
