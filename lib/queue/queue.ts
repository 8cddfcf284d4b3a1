import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Config } from '../config.ts';
import { type Job, type JobStatus, type NewJob, fromHash, toHashFields } from './job.ts';
import { type FinalStatus, type QueueKeys, queueKeys } from './keys.ts';
import { type QueueScripts, defineScripts } from './scripts.ts';

export interface QueueSettings {
  prefix: string;
  leaseMs: number;
  retentionMs: number;
  maxAttempts: number;
  retryBaseMs: number;
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

export function queueSettings(config: Config): QueueSettings {
  return {
    prefix: config.redisPrefix,
    leaseMs: config.jobLeaseMs,
    retentionMs: config.jobRetentionMs,
    maxAttempts: config.jobMaxAttempts,
    retryBaseMs: config.jobRetryBaseMs,
  };
}

/** The producer's and the inspector's view of the queue: what the API needs. Workers use JobLeases. */
export class JobQueue {
  readonly keys: QueueKeys;
  readonly scripts: QueueScripts;

  constructor(
    readonly redis: Redis,
    readonly settings: QueueSettings,
  ) {
    this.keys = queueKeys(settings.prefix);
    this.scripts = defineScripts(redis);
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
  ): Promise<{ status: 'created'; jobs: Job[] } | { status: 'existing' | 'conflict'; jobId: string }> {
    const now = Date.now();
    const args: (string | number)[] = [this.keys.jobPrefix, now, idempotency?.fingerprint ?? '', IDEMPOTENCY_TTL_MS];
    const jobs = specs.map((spec) => {
      const { id } = spec;
      const fields = toHashFields({ ...spec, maxAttempts: spec.maxAttempts ?? this.settings.maxAttempts }, now);
      // A scrape-all parent never runs itself: only its children enter the pending list.
      args.push(id, spec.priority, spec.kind === 'scrape-all' ? 0 : 1, fields.length, ...fields);
      return fromHash(id, Object.fromEntries(pairs(fields)))!;
    });
    const idempotencyKey = idempotency ? this.keys.idempotency(idempotency.scope, idempotency.key) : this.keys.idempotency('none', 'none');
    const [status, value] = (await this.scripts.run('enqueue', [this.keys.pending, this.keys.recent, idempotencyKey], args)) as [string, string | number];
    if (status === 'created') return { status, jobs };
    return { status: status as 'existing' | 'conflict', jobId: String(value) };
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

  /** Recent jobs, newest first; with a status, pages through the index until `limit` match. */
  async list(options: { status?: JobStatus; limit: number }): Promise<Job[]> {
    const jobs: Job[] = [];
    const page = Math.max(options.limit, 50);
    for (let start = 0; jobs.length < options.limit; start += page) {
      const ids = await this.redis.lrange(this.keys.recent, start, start + page - 1);
      if (ids.length === 0) break;
      const pipeline = this.redis.pipeline();
      for (const id of ids) pipeline.hgetall(this.keys.job(id));
      for (const [index, [, hash]] of ((await pipeline.exec()) ?? []).entries()) {
        const job = fromHash(ids[index]!, hash as Record<string, string>);
        if (job && (!options.status || job.status === options.status)) jobs.push(job);
        if (jobs.length === options.limit) break;
      }
      if (ids.length < page) break;
    }
    return jobs;
  }

  /** Constant-time figures: list lengths and range counts, never a scan. */
  async counts(now = Date.now()): Promise<QueueCounts> {
    const since = now - DAY_MS;
    const replies = await this.redis
      .multi()
      .llen(this.keys.pending)
      .llen(this.keys.processing)
      .zcard(this.keys.delayed)
      .zcount(this.keys.finished.completed, since, '+inf')
      .zcount(this.keys.finished.failed, since, '+inf')
      .zcount(this.keys.finished.cancelled, since, '+inf')
      .llen(this.keys.dead)
      .hget(this.keys.stats, 'fenced_rejections')
      .exec();
    const [pending, processing, delayed, completed, failed, cancelled, dead, fenced] = (replies ?? []).map(([error, value]) => {
      if (error) throw error;
      return Number(value);
    });
    return {
      pending: pending!,
      processing: processing!,
      delayed: delayed!,
      dead: dead!,
      fenced_rejections: fenced!,
      completed_24h: completed!,
      failed_24h: failed!,
      cancelled_24h: cancelled!,
    };
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

function* pairs(fields: string[]): Generator<[string, string]> {
  for (let i = 0; i + 1 < fields.length; i += 2) yield [fields[i]!, fields[i + 1]!];
}
