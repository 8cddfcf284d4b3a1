import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { FinalStatus, Job, JobStatus, NewJob } from '../model/job.ts';
import { type QueueCore, queueCore } from './core.ts';
import { JobLeases } from './leases.ts';
import { HistoryOutbox } from './outbox.ts';
import { fromHash, pairsToHash, toHashFields } from './record.ts';
import type { QueueSettings } from './settings.ts';

/** An enqueue refused because as many jobs wait as the cap allows (MAX_WAITING_JOBS). */
export class QueueFullError extends Error {
  override name = 'QueueFullError';
  constructor(readonly waiting: number, readonly cap: number) {
    super(`${waiting} jobs are waiting, the most MAX_WAITING_JOBS (${cap}) allows`);
  }
}

export type JobSpec = Omit<NewJob, 'maxAttempts'> & { maxAttempts?: number };
/** Ids are made here, never taken from a caller: they are random, so the enqueue script need not check for a clash. */
type SpecWithId = JobSpec & { id: string };

export type CancelOutcome = 'missing' | 'cancelled' | 'cancelling' | `finished:${FinalStatus}`;

export interface QueueCounts {
  pending: number;
  processing: number;
  delayed: number;
  dead: number;
  fenced_rejections: number;
  /** Finished jobs not yet copied into PostgreSQL. */
  history_backlog: number;
  /** Outbox entries PostgreSQL refused, kept aside (LRANGE <prefix>:jobs:history:rejected). */
  history_rejected: number;
  completed_24h: number;
  failed_24h: number;
  cancelled_24h: number;
}

export interface WorkerInfo {
  id: string;
  host: string;
  pid: number;
  concurrency: number;
  running: number;
  started_at: number;
  last_seen: number;
}

const DAY_MS = 86_400_000;
const IDEMPOTENCY_TTL_MS = DAY_MS;

/**
 * The producer's and the inspector's view of the queue: what the API needs. Workers take their part with
 * leases(), the history copy its part with outbox(); none of them reaches into the queue's connection or keys.
 */
export class JobQueue {
  private readonly core: QueueCore;
  /** The REDIS_PREFIX its keys are under (lib/redis/keys.ts names them). */
  readonly prefix: string;

  constructor(redis: Redis, settings: QueueSettings) {
    this.core = queueCore(redis, settings);
    this.prefix = settings.prefix;
  }

  private get redis() {
    return this.core.redis;
  }

  private get keys() {
    return this.core.keys;
  }

  private get scripts() {
    return this.core.scripts;
  }

  private get settings() {
    return this.core.settings;
  }

  /** The worker's side: take, lease, renew, finish, sweep. */
  leases(): JobLeases {
    return new JobLeases(this.core);
  }

  /** The history copy's side: the outbox of finished jobs and the parents waiting to settle. */
  outbox(): HistoryOutbox {
    return new HistoryOutbox(this.core);
  }

  /** Records of these jobs, in order; null for one that is gone. */
  async getMany(ids: string[]): Promise<(Job | null)[]> {
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hgetall(this.keys.job(id));
    return ((await pipeline.exec()) ?? []).map(([, hash], i) => fromHash(ids[i]!, hash as Record<string, string>));
  }

  /** Brings keys written by an older release to today's shapes; every process runs it once at start-up. */
  async upgradeKeys(): Promise<void> {
    await this.scripts.run('upgrade-recent', [this.keys.recent], []);
  }

  async enqueue(spec: JobSpec): Promise<Job> {
    const [job] = await this.enqueueMany([spec]);
    return job!;
  }

  /** Creates every job in one atomic step, in the order given (equal priorities run in that order). */
  async enqueueMany(specs: JobSpec[]): Promise<Job[]> {
    return this.create(specs.map((spec) => ({ ...spec, id: randomUUID() })));
  }

  private async create(specs: SpecWithId[]): Promise<Job[]> {
    const outcome = await this.write(specs, null);
    if (outcome.status !== 'created') throw new Error('enqueue without an idempotency key cannot meet an earlier request');
    return outcome.jobs;
  }

  /**
   * With an idempotency key, the first request creates the jobs and later ones with the same fingerprint get
   * the first job's id back ('existing'); another fingerprint under the same key is a 'conflict'. Atomic, so
   * a hundred concurrent identical requests still create one job.
   */
  enqueueIdempotent(
    specs: JobSpec[],
    idempotency: { scope: string; key: string; fingerprint: string } | null,
  ): Promise<{ status: 'created'; jobs: Job[] } | { status: 'existing' | 'conflict'; jobId: string }> {
    return this.write(specs.map((spec) => ({ ...spec, id: randomUUID() })), idempotency);
  }

  private async write(
    specs: SpecWithId[],
    idempotency: { scope: string; key: string; fingerprint: string } | null,
    { capped } = { capped: true },
  ): Promise<{ status: 'created'; jobs: Job[] } | { status: 'existing' | 'conflict'; jobId: string }> {
    const now = Date.now();
    const args: (string | number)[] = [this.keys.jobPrefix, now, idempotency?.fingerprint ?? '', IDEMPOTENCY_TTL_MS, capped ? this.settings.maxWaiting ?? 0 : 0];
    const jobs = specs.map((spec) => {
      const { id } = spec;
      const fields = toHashFields({ ...spec, maxAttempts: spec.maxAttempts ?? this.settings.maxAttempts }, now);
      // A scrape-all parent never runs itself: only its children enter the pending list.
      args.push(id, spec.priority, spec.kind === 'scrape-all' ? 0 : 1, fields.length, ...fields);
      return fromHash(id, pairsToHash(fields))!;
    });
    const idempotencyKey = idempotency ? this.keys.idempotency(idempotency.scope, idempotency.key) : this.keys.idempotency('none', 'none');
    const [status, value] = (await this.scripts.run('enqueue', [this.keys.pending, this.keys.recent, idempotencyKey, this.keys.delayed], args)) as [string, string | number];
    if (status === 'created') return { status, jobs };
    if (status === 'full') throw new QueueFullError(Number(value), this.settings.maxWaiting ?? 0);
    return { status: status as 'existing' | 'conflict', jobId: String(value) };
  }

  /**
   * A backup job, unless one is waiting or running already: then 'busy' with its id. The marker names the backup in
   * progress and outlives it by at most `markerTtlMs` should its worker die; it is claimed before the job exists, so
   * two requests at once create one backup.
   */
  async enqueueBackup(type: string, markerTtlMs: number): Promise<{ status: 'created'; job: Job } | { status: 'busy'; jobId: string }> {
    const id = randomUUID();
    const claim = await this.scripts.run('backup-claim', [this.keys.backupActive], [id, markerTtlMs, this.keys.jobPrefix]);
    if (claim !== 'claimed') return { status: 'busy', jobId: String(claim) };
    // Exempt from the cap on waiting jobs: there is one at a time, and a full queue is when a backup matters most.
    const outcome = await this.write([{ kind: 'backup', source: '', query: type, limit: 1, priority: 8, id }], null, { capped: false });
    if (outcome.status !== 'created') throw new Error('a backup enqueue cannot meet an earlier request');
    return { status: 'created', job: outcome.jobs[0]! };
  }

  /** Runs a dead or failed job again from its first attempt. */
  async retry(id: string): Promise<'requeued' | 'missing' | JobStatus> {
    return (await this.scripts.run('retry', [this.keys.pending, this.keys.dead, this.keys.job(id), this.keys.finished.failed], [id, this.keys.jobPrefix])) as
      | 'requeued'
      | 'missing'
      | JobStatus;
  }

  /** A scrape-all parent and one child scrape per (source, query), created together. */
  async enqueueFamily(parent: Omit<JobSpec, 'kind' | 'children'>, children: Omit<JobSpec, 'kind' | 'parent'>[]): Promise<{ parent: Job; children: Job[] }> {
    const parentId = randomUUID();
    const childSpecs = children.map((child) => ({ ...child, kind: 'scrape' as const, id: randomUUID(), parent: parentId }));
    const [created, ...createdChildren] = await this.create([
      { ...parent, kind: 'scrape-all', id: parentId, children: childSpecs.map((child) => child.id) },
      ...childSpecs,
    ]);
    return { parent: created!, children: createdChildren };
  }

  async get(id: string): Promise<Job | null> {
    return fromHash(id, await this.redis.hgetall(this.keys.job(id)));
  }

  async cancel(id: string): Promise<CancelOutcome> {
    const error = JSON.stringify({ code: 'cancelled', message: 'cancelled by request', at: Date.now() });
    return (await this.scripts.run(
      'cancel',
      [this.keys.pending, this.keys.delayed, this.keys.job(id), this.keys.finished.cancelled, this.keys.history],
      [id, Date.now(), this.keys.cancelChannel, error],
    )) as CancelOutcome;
  }

  /**
   * Recent jobs, newest first. With a status, read from that status's own index, so a page costs what it returns
   * whatever the history: pending ones next to run first, then those waiting for a retry (soonest first); running
   * ones most recently taken first; finished ones by finish time, newest first; dead ones newest first.
   */
  async list(options: { status?: JobStatus; limit: number }): Promise<Job[]> {
    const { status, limit } = options;
    if (!status) return this.readIndex((start, stop) => this.redis.lrange(this.keys.recent, start, stop), limit, null);
    const k = this.keys;
    const read = {
      pending: async (start: number, stop: number) => {
        // The tail of pending runs next; delayed retries come after every job waiting now.
        const waiting = await this.redis.llen(k.pending);
        const next = start < waiting ? (await this.redis.lrange(k.pending, -1 - Math.min(stop, waiting - 1), -1 - start)).reverse() : [];
        const retries = stop >= waiting ? await this.redis.zrange(k.delayed, Math.max(0, start - waiting), stop - waiting) : [];
        return [...next, ...retries];
      },
      running: (start: number, stop: number) => this.redis.lrange(k.processing, start, stop),
      completed: (start: number, stop: number) => this.redis.zrevrange(k.finished.completed, start, stop),
      failed: (start: number, stop: number) => this.redis.zrevrange(k.finished.failed, start, stop),
      cancelled: (start: number, stop: number) => this.redis.zrevrange(k.finished.cancelled, start, stop),
      dead: (start: number, stop: number) => this.redis.lrange(k.dead, start, stop),
    }[status];
    return this.readIndex(read, limit, status);
  }

  /**
   * Pages through an index of ids until `limit` jobs are found. A record whose status moved on since the index was
   * read (or that expired) is skipped, and a few pages more are read for it, never the whole index.
   */
  private async readIndex(read: (start: number, stop: number) => Promise<string[]>, limit: number, status: JobStatus | null): Promise<Job[]> {
    const jobs: Job[] = [];
    const page = Math.max(limit, 20);
    for (let start = 0, pages = 0; jobs.length < limit && pages < 5; start += page, pages++) {
      const ids = await read(start, start + page - 1);
      if (ids.length === 0) break;
      const pipeline = this.redis.pipeline();
      for (const id of ids) pipeline.hgetall(this.keys.job(id));
      for (const [index, [, hash]] of ((await pipeline.exec()) ?? []).entries()) {
        const job = fromHash(ids[index]!, hash as Record<string, string>);
        if (job && (!status || job.status === status)) jobs.push(job);
        if (jobs.length === limit) break;
      }
      if (ids.length < page) break;
    }
    return jobs;
  }

  /** Constant-time figures: list lengths and range counts, never a scan. */
  async counts(now = Date.now()): Promise<QueueCounts> {
    const since = now - DAY_MS;
    // A pipeline, not MULTI: Redis at maxmemory refuses a whole transaction, even one that only reads.
    const replies = await this.redis
      .pipeline()
      .llen(this.keys.pending)
      .llen(this.keys.processing)
      .zcard(this.keys.delayed)
      .zcount(this.keys.finished.completed, since, '+inf')
      .zcount(this.keys.finished.failed, since, '+inf')
      .zcount(this.keys.finished.cancelled, since, '+inf')
      .llen(this.keys.dead)
      .hget(this.keys.stats, 'fenced_rejections')
      .llen(this.keys.history)
      .llen(this.keys.historyRejected)
      .exec();
    const [pending, processing, delayed, completed, failed, cancelled, dead, fenced, backlog, rejected] = (replies ?? []).map(([error, value]) => {
      if (error) throw error;
      return Number(value);
    });
    return {
      pending: pending!,
      processing: processing!,
      delayed: delayed!,
      dead: dead!,
      fenced_rejections: fenced!,
      history_backlog: backlog!,
      history_rejected: rejected!,
      completed_24h: completed!,
      failed_24h: failed!,
      cancelled_24h: cancelled!,
    };
  }

  /**
   * The counters the finish script keeps: jobs completed and failed (by error code) since the prefix was first used,
   * and the attempts' run times per histogram bucket (each bucket its own attempts, '+Inf' included).
   */
  async jobCounters(): Promise<{ completed: number; failed: Map<string, number>; duration: { buckets: Map<string, number>; sum: number; count: number } }> {
    const hash = await this.redis.hgetall(this.keys.stats);
    const failed = new Map<string, number>();
    const buckets = new Map<string, number>();
    for (const [field, value] of Object.entries(hash)) {
      if (field.startsWith('jobs_failed:')) failed.set(field.slice('jobs_failed:'.length), Number(value));
      if (field.startsWith('job_duration_le:')) buckets.set(field.slice('job_duration_le:'.length), Number(value));
    }
    return {
      completed: Number(hash.jobs_completed ?? 0),
      failed,
      duration: { buckets, sum: Number(hash.job_duration_sum ?? 0), count: Number(hash.job_duration_count ?? 0) },
    };
  }

  /** How long the job that runs next (the tail of pending) has existed, in ms; 0 when nothing waits. */
  async nextJobAgeMs(now = Date.now()): Promise<number> {
    const id = await this.redis.lindex(this.keys.pending, -1);
    if (!id) return 0;
    const createdAt = Number(await this.redis.hget(this.keys.job(id), 'created_at'));
    return Number.isFinite(createdAt) && createdAt > 0 ? Math.max(0, now - createdAt) : 0;
  }

  /** Workers that sent a heartbeat within `withinMs`. */
  async liveWorkers(withinMs: number, now = Date.now()): Promise<WorkerInfo[]> {
    const ids = await this.redis.zrangebyscore(this.keys.workers, now - withinMs, '+inf');
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hgetall(this.keys.worker(id));
    const hashes = ((await pipeline.exec()) ?? []).map(([, hash]) => hash as Record<string, string>);
    return hashes
      .filter((hash) => hash.id)
      .map((hash) => ({
        id: hash.id!,
        host: hash.host ?? '',
        pid: Number(hash.pid),
        concurrency: Number(hash.concurrency),
        running: Number(hash.running),
        started_at: Number(hash.started_at),
        last_seen: Number(hash.last_seen),
      }));
  }
}
