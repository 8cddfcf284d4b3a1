import { createHash } from 'node:crypto';
import { Hono } from 'hono';
import type { BackupType } from '../backup/files.ts';
import { ApiError } from '../errors.ts';
import { summarise } from '../history/family.ts';
import { JobStore } from '../history/job-store.ts';
import { type Job, isFinal } from '../model/job.ts';
import type { JobQueue } from '../queue/queue.ts';
import { sleep } from '../sleep.ts';
import * as contract from './contract/jobs.ts';
import type { ApiDeps } from './deps.ts';
import { checkHealth } from './health.ts';
import { presentJob } from './present.ts';
import { type ScrapeAllRequest, scrapeAllRequest, scrapeRequest } from './validate.ts';

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// How long DELETE waits for a running job's worker to confirm the abort before answering 202.
const CANCEL_WAIT_MS = 3_000;

/** The request as parsed, so the same request written with other spacing or field order matches. */
function fingerprint(request: Record<string, unknown>): string {
  const canonical = JSON.stringify(Object.keys(request).sort().map((key) => [key, request[key]]));
  return createHash('sha256').update(canonical).digest('hex').slice(0, 32);
}

/** One scrape per (source, query) under a scrape-all parent. */
export function enqueueScrapeAll(queue: JobQueue, request: ScrapeAllRequest) {
  return queue.enqueueFamily(
    { source: '', query: '', limit: request.limit, priority: request.priority, fullRescan: request.fullRescan },
    request.sources.flatMap((source) =>
      request.queries.map((query) => ({ source, query, limit: request.limit, priority: request.priority, fullRescan: request.fullRescan })),
    ),
  );
}

/** A backup job, or a 409 while another one is waiting or running. */
export async function enqueueBackup(deps: Pick<ApiDeps, 'queue' | 'config'>, type: BackupType): Promise<Job> {
  // A dump that runs past its limit is stopped; the marker outlives that by a margin for a worker that died.
  const outcome = await deps.queue.enqueueBackup(type, deps.config.backupTimeoutMs + 2 * deps.config.jobLeaseMs + 60_000);
  if (outcome.status === 'busy') {
    throw new ApiError(409, 'backup_running', `backup job ${outcome.jobId} is waiting or running; wait for it to finish (GET /jobs/${outcome.jobId})`);
  }
  return outcome.job;
}

/**
 * Cancels a job (a scrape-all parent: each of its children): 'cancelling' while its worker has yet to stop it, a
 * 409 once it has finished.
 */
export async function cancelJob(queue: JobQueue, job: Job): Promise<'cancelled' | 'cancelling'> {
  if (job.kind === 'scrape-all') {
    if (isFinal(job.status)) throw new ApiError(409, 'job_finished', `job ${job.id} has already finished (${job.status}); nothing to cancel`);
    await Promise.all(job.children.map((id) => queue.cancel(id)));
    return 'cancelled';
  }
  const outcome = await queue.cancel(job.id);
  if (outcome === 'cancelled' || outcome === 'cancelling') return outcome;
  // 'missing' means Redis no longer has it: only PostgreSQL's history does, so it finished long ago.
  const status = outcome === 'missing' ? job.status : outcome.slice('finished:'.length);
  throw new ApiError(409, 'job_finished', `job ${job.id} has already finished (${status}); nothing to cancel`);
}

/** Runs a dead or failed job again, or a 409 saying why it cannot be. */
export async function retryJob(queue: JobQueue, job: Job): Promise<void> {
  const outcome = await queue.retry(job.id);
  if (outcome !== 'requeued') {
    throw new ApiError(409, 'not_retryable', `job ${job.id} is ${outcome === 'missing' ? `${job.status} and no longer in the queue` : outcome}; only dead and failed jobs can be retried`);
  }
}

export function jobsRoutes(deps: ApiDeps) {
  const { queue, sql, sources } = deps;
  const store = new JobStore(queue, sql);

  /** A job by an id its route definition has checked the form of. */
  const findJob = async (id: string): Promise<Job> => {
    const job = await store.get(id);
    if (!job) throw new ApiError(404, 'job_not_found', `no job with id "${id}"`);
    return job;
  };

  /** A scrape-all parent with its children's state folded in: live from Redis, else from PostgreSQL. */
  const presentWithFamily = async (parent: Job, known?: Job[]) => {
    const children = known ?? (await store.children(parent));
    const summary = summarise(parent, children);
    return {
      ...presentJob(parent),
      status: isFinal(parent.status) ? parent.status : summary.status,
      progress: { found: summary.found, inserted: summary.inserted, children: summary.counts },
      result: isFinal(summary.status) ? { found: summary.found, inserted: summary.inserted, children: summary.counts } : null,
      error: isFinal(summary.status) ? summary.error : null,
      children: children.map((child) => ({
        id: child.id,
        source: child.source,
        query: child.query,
        status: child.status,
        attempts: child.attempts,
        found: Number((child.result ?? child.progress)?.found ?? 0),
        inserted: Number((child.result ?? child.progress)?.inserted ?? 0),
        error: child.error ? { code: child.error.code, message: child.error.message } : null,
      })),
    };
  };

  return new Hono()
    .post('/scrape', async (c) => {
      const input = await contract.scrape.read(c, deps);
      const request = scrapeRequest(input.body);
      const key = input.headers['Idempotency-Key'] ?? null;
      const outcome = await queue.enqueueIdempotent(
        [{ kind: 'scrape', ...request }],
        key ? { scope: 'scrape', key, fingerprint: fingerprint({ ...request }) } : null,
      );
      if (outcome.status === 'conflict') {
        throw new ApiError(409, 'idempotency_conflict', `Idempotency-Key "${key}" was already used for a different request (job ${outcome.jobId}); use a new key for a new request`);
      }
      const job = outcome.status === 'created' ? outcome.jobs[0]! : await findJob(outcome.jobId);
      const headers: Record<string, string> = { location: `/jobs/${job.id}` };
      if (outcome.status === 'existing') headers['idempotent-replayed'] = 'true';
      return c.json({ job_id: job.id, ...presentJob(job) }, 202, headers);
    })
    .post('/scrape-all', async (c) => {
      const { parent, children } = await enqueueScrapeAll(queue, scrapeAllRequest((await contract.scrapeAll.read(c, deps)).body, sources));
      return c.json({ job_id: parent.id, ...(await presentWithFamily(parent, children)) }, 202, { location: `/jobs/${parent.id}` });
    })
    .post('/backup', async (c) => {
      const job = await enqueueBackup(deps, (await contract.backup.read(c, deps)).body.type);
      return c.json({ job_id: job.id, ...presentJob(job) }, 202, { location: `/jobs/${job.id}` });
    })
    .post('/sentiment-backfill', async (c) => {
      const { all } = (await contract.sentimentBackfill.read(c, deps)).body;
      // The job's query says which posts: a backfill is not a scrape, it has no source.
      const job = await queue.enqueue({ kind: 'sentiment-backfill', source: '', query: all ? 'all' : 'outdated', limit: 1, priority: 1, maxAttempts: 10 });
      return c.json({ job_id: job.id, ...presentJob(job) }, 202, { location: `/jobs/${job.id}` });
    })
    .get('/status', async (c) => {
      const [counts, workers, health] = await Promise.all([
        queue.counts(),
        queue.liveWorkers(15_000),
        checkHealth(deps),
      ]);
      return c.json({
        ...counts,
        workers: workers.map((w) => ({ ...w, started_at: new Date(w.started_at).toISOString(), last_seen: new Date(w.last_seen).toISOString() })),
        redis: health.redis,
        postgres: health.postgres,
      });
    })
    .get('/', async (c) => {
      const { status, limit } = (await contract.listJobs.read(c, deps)).query;
      const jobs = await queue.list({ status, limit });
      return c.json({ jobs: jobs.map(presentJob) });
    })
    .post('/:id/retry', async (c) => {
      const job = await findJob((await contract.retryJob.read(c, deps)).path.id);
      await retryJob(queue, job);
      return c.json({ job_id: job.id, ...presentJob((await queue.get(job.id)) ?? job) }, 202, { location: `/jobs/${job.id}` });
    })
    .get('/:id', async (c) => {
      const job = await findJob((await contract.getJob.read(c, deps)).path.id);
      return c.json(job.kind === 'scrape-all' ? await presentWithFamily(job) : presentJob(job));
    })
    .delete('/:id', async (c) => {
      const job = await findJob((await contract.cancelJob.read(c, deps)).path.id);
      const outcome = await cancelJob(queue, job);
      if (job.kind === 'scrape-all') return c.json(await presentWithFamily((await queue.get(job.id)) ?? job));
      if (outcome === 'cancelled') return c.json(presentJob((await queue.get(job.id)) ?? job));
      const deadline = Date.now() + CANCEL_WAIT_MS;
      while (Date.now() < deadline) {
        const current = await queue.get(job.id);
        if (!current || isFinal(current.status)) return c.json(presentJob(current ?? job));
        await sleep(50);
      }
      return c.json(presentJob((await queue.get(job.id)) ?? job), 202);
    });
}
