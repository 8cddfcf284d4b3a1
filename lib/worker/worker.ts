import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { LogLevel } from '../config.ts';
import type { Logger } from '../log.ts';
import type { Job, JobContext, JobProgress } from '../model/job.ts';
import type { FinishDetails, FinishOutcome, JobLeases } from '../queue/leases.ts';
import type { JobQueue } from '../queue/queue.ts';
import type { QueueSettings } from '../queue/settings.ts';
import { pause, sleep } from '../sleep.ts';
import { JobAborted, abortCause } from './abort.ts';
import { FinishBatcher } from './finish-batcher.ts';
import { LeaseKeeper } from './lease-keeper.ts';
import { runMaintenance } from './maintenance.ts';
import { type AttemptEnd, type TimeLimit, decideOutcome } from './outcome.ts';
import { withRedisRetries } from './redis-retry.ts';

export type { TimeLimit };

export type JobHandler = (job: Job, ctx: JobContext) => Promise<Record<string, unknown>>;

export interface WorkerOptions {
  queue: JobQueue;
  /** The queue's timings: lease length, retry backoff. */
  settings: QueueSettings;
  /** A connection of its own for BLMOVE, which blocks it. */
  blocking: Redis;
  /** A connection of its own for the cancel channel (a subscribed connection takes no other command). */
  subscriber: Redis;
  handler: JobHandler;
  concurrency: number;
  log: Logger;
  /** Runs after each sweep (e.g. copying finished jobs into PostgreSQL); errors are logged, never fatal. */
  maintenance?: () => Promise<unknown>;
  workerId?: string;
  /** For the lease-keeper thread's own connection. */
  redisUrl: string;
  logLevel?: LogLevel;
  /** The attempt's hard time limit, its one owner: past it the job is aborted and the attempt fails with timed_out. */
  timeLimit?: (job: Job) => TimeLimit;
}

interface RunningJob {
  job: Job;
  token: string;
  controller: AbortController;
  progress: JobProgress | null;
  /** When progress was last written to Redis (ms). */
  progressWrittenAt: number;
  done: Promise<void>;
}

const TAKE_TIMEOUT_SECONDS = 1;
const DEFAULT_TIMEOUT_MS = 10 * 60_000;
const PROGRESS_WRITE_EVERY_MS = 250;

/**
 * Takes jobs from the pending list and runs up to `concurrency` of them at once, holding a lease on each.
 * Every loop here catches, logs and backs off: a Redis or PostgreSQL outage slows it down, never kills it.
 */
export class Worker {
  readonly id: string;
  private readonly leases: JobLeases;
  private readonly finisher: FinishBatcher;
  private readonly running = new Map<string, RunningJob>();
  private readonly stopController = new AbortController();
  private readonly startedAt = Date.now();
  private slotFreed: (() => void) | null = null;
  private takeLoopDone: Promise<void> = Promise.resolve();
  private maintenanceDone: Promise<void> = Promise.resolve();
  private readonly renewEveryMs: number;
  private readonly sweepEveryMs: number;
  private readonly keeper: LeaseKeeper;

  constructor(private readonly options: WorkerOptions) {
    this.id = options.workerId ?? newWorkerId();
    this.leases = options.queue.leases();
    this.finisher = new FinishBatcher(this.leases);
    const leaseMs = options.settings.leaseMs;
    this.renewEveryMs = Math.min(Math.floor(leaseMs / 3), 5_000);
    this.sweepEveryMs = Math.min(Math.floor(leaseMs / 2), 5_000);
    this.keeper = new LeaseKeeper({
      redisUrl: options.redisUrl,
      settings: options.settings,
      renewEveryMs: this.renewEveryMs,
      logLevel: options.logLevel ?? 'info',
      workerId: this.id,
      slots: options.concurrency,
      onLost: (id) => this.running.get(id)?.controller.abort(new JobAborted('lease_lost')),
      onCancel: (id) => this.running.get(id)?.controller.abort(new JobAborted('cancelled')),
    });
  }

  private get log() {
    return this.options.log;
  }

  get runningCount(): number {
    return this.running.size;
  }

  async start(): Promise<void> {
    await this.keeper.start();
    await this.listenForCancels();
    this.log.info('worker_started', { concurrency: this.options.concurrency, lease_ms: this.options.settings.leaseMs });
    this.takeLoopDone = this.takeLoop();
    this.maintenanceDone = runMaintenance(
      {
        leases: this.leases,
        workerId: this.id,
        concurrency: this.options.concurrency,
        startedAt: this.startedAt,
        running: () => this.running.size,
        everyMs: this.sweepEveryMs,
        chores: this.options.maintenance,
        log: this.log,
      },
      this.stopController.signal,
    );
  }

  /**
   * Stops taking jobs, lets running ones finish until the deadline, then aborts the rest and puts them back
   * in pending without counting the attempt.
   */
  async stop(deadlineMs: number): Promise<void> {
    if (this.stopController.signal.aborted) return;
    this.log.info('worker_stopping', { running: this.running.size, deadline_ms: deadlineMs });
    this.stopController.abort();
    this.slotFreed?.();
    const takeLoopSettled = this.settleTakeLoop();
    const drained = Promise.all([...this.running.values()].map((entry) => entry.done));
    const deadline = sleep(deadlineMs).then(() => 'deadline' as const);
    if ((await Promise.race([drained.then(() => 'drained' as const), deadline])) === 'deadline') {
      for (const entry of this.running.values()) entry.controller.abort(new JobAborted('shutdown'));
      await drained;
    }
    await takeLoopSettled;
    // A job taken while the stop began is claimed and released straight away; wait for that too.
    await Promise.all([...this.running.values()].map((entry) => entry.done));
    // A sweep or heartbeat still in flight would otherwise write after the worker has left.
    await Promise.race([this.maintenanceDone, sleep(10_000)]);
    await this.leases.leaveWorkers(this.id).catch(() => {});
    await this.keeper.stop();
    this.log.info('worker_stopped', {});
  }

  private async listenForCancels(): Promise<void> {
    await this.leases.listenForCancels(this.options.subscriber, (id) => this.running.get(id)?.controller.abort(new JobAborted('cancelled')));
  }

  private async takeLoop(): Promise<void> {
    const stop = this.stopController.signal;
    let failures = 0;
    let busy = true;
    while (!stop.aborted) {
      if (this.running.size >= this.options.concurrency) {
        await new Promise<void>((resolve) => (this.slotFreed = resolve));
        continue;
      }
      try {
        // While work is waiting, fill every free slot in one round trip; when the list runs dry, block on it.
        if (busy) {
          const claims = await this.leases.claimMany(this.id, this.options.concurrency - this.running.size);
          busy = claims.length > 0;
          for (const claim of claims) this.startJob(claim.job.id, claim);
          failures = 0;
          if (busy) continue;
        }
        const id = await this.leases.take(this.options.blocking, TAKE_TIMEOUT_SECONDS);
        failures = 0;
        if (id) {
          busy = true;
          this.startJob(id);
        }
      } catch (error) {
        failures += 1;
        this.log.warn('take_failed', { error: (error as Error).message, failures });
        await pause(Math.min(250 * 2 ** failures, 5_000), stop);
      }
    }
  }

  // BLMOVE returns within TAKE_TIMEOUT_SECONDS; when Redis is down it would wait for the reconnect, so the
  // connection is cut instead. An id moved just before the cut sits in processing without a lease until the
  // sweeper gives it a grace lease and then puts it back: nothing is lost.
  private async settleTakeLoop(): Promise<void> {
    const settled = await Promise.race([
      this.takeLoopDone.then(() => true),
      sleep((TAKE_TIMEOUT_SECONDS + 1) * 1_000).then(() => false),
    ]);
    if (!settled) this.options.blocking.disconnect();
  }

  private startJob(id: string, claimed?: { job: Job; token: string }): void {
    const controller = new AbortController();
    const entry: RunningJob = { job: undefined as unknown as Job, token: '', controller, progress: null, progressWrittenAt: 0, done: Promise.resolve() };
    // Reserve the slot before the first await so the take loop never overshoots the concurrency.
    this.running.set(id, entry);
    entry.done = this.runJob(id, entry, claimed)
      .catch((error) => this.log.error('job_crashed_worker_loop', { job_id: id, error }))
      .finally(() => {
        this.running.delete(id);
        this.slotFreed?.();
        this.slotFreed = null;
      });
  }

  private async runJob(id: string, entry: RunningJob, claimed?: { job: Job; token: string }): Promise<void> {
    const claim = claimed ? { status: 'claimed' as const, ...claimed } : await withRedisRetries(() => this.leases.claim(id, this.id), { giveUpAfterMs: this.options.settings.leaseMs, log: this.log, jobId: id });
    if (!claim || claim.status !== 'claimed') {
      this.log.warn('job_not_claimed', { job_id: id, reason: claim?.status ?? 'redis_unavailable' });
      return;
    }
    entry.job = claim.job;
    entry.token = claim.token;
    const { job } = claim;
    const log = this.log.child({ job_id: id, source: job.source, attempt: job.attempts });

    if (this.stopController.signal.aborted) return this.end(entry, { kind: 'aborted', cause: 'shutdown' }, log);
    if (job.cancelRequested) return this.end(entry, { kind: 'aborted', cause: 'cancelled' }, log);

    const timeoutMs = this.timeLimitOf(job).ms;
    log.info('job_started', { query: job.query, limit: job.limit, priority: job.priority, timeout_ms: timeoutMs });
    // The lease is renewed by the keeper thread, whatever this thread is doing, until the hard limit has passed.
    this.keeper.hold(id, entry.token, Date.now() + timeoutMs + this.options.settings.leaseMs);
    const deadline = setTimeout(() => entry.controller.abort(new JobAborted('timed_out')), timeoutMs);
    const ctx: JobContext = {
      signal: entry.controller.signal,
      reportProgress: async (progress) => {
        entry.progress = progress;
        // A page every few milliseconds would be a Redis round trip each; readers poll, and the finish writes the
        // last progress anyway.
        if (Date.now() - entry.progressWrittenAt < PROGRESS_WRITE_EVERY_MS) return;
        entry.progressWrittenAt = Date.now();
        await this.renew(entry, log);
      },
    };
    const started = Date.now();
    try {
      const result = await this.options.handler(job, ctx);
      // A cancel that arrived as the last page was stored still wins: the user asked for it.
      const cause = abortCause(entry.controller.signal);
      await this.end(entry, cause ? { kind: 'aborted', cause } : { kind: 'succeeded', result }, log, { ms: Date.now() - started });
    } catch (error) {
      const cause = abortCause(entry.controller.signal);
      await this.end(entry, cause ? { kind: 'aborted', cause } : { kind: 'threw', error }, log);
    } finally {
      clearTimeout(deadline);
      this.keeper.release(id);
    }
  }

  private timeLimitOf(job: Job): TimeLimit {
    return this.options.timeLimit?.(job) ?? { ms: DEFAULT_TIMEOUT_MS, onExpiry: 'retry' };
  }

  /** Records how the attempt ended, as the outcome policy decides (./outcome.ts). */
  private async end(entry: RunningJob, end: AttemptEnd, log: Logger, extra: Record<string, unknown> = {}): Promise<void> {
    const decision = decideOutcome(entry.job, end, { settings: this.options.settings, timeLimit: this.timeLimitOf(entry.job), progress: entry.progress });
    if (decision.outcome !== null) await this.finish(entry, decision.outcome, decision.details, log);
    const level = decision.outcome === 'failed' || decision.outcome === 'dead' || decision.outcome === 'retry' || decision.outcome === null ? 'warn' : 'info';
    log[level](decision.event, { ...extra, ...decision.fields });
  }

  private async finish(
    entry: RunningJob,
    outcome: FinishOutcome,
    details: FinishDetails,
    log: Logger,
  ): Promise<void> {
    const applied = await withRedisRetries(() => this.finisher.finish({ id: entry.job.id, token: entry.token, outcome, details }), { giveUpAfterMs: this.options.settings.leaseMs, log: this.log, jobId: entry.job.id });
    if (applied === 'fenced') log.warn('job_finish_fenced', { outcome });
    if (applied === undefined) log.error('job_finish_unrecorded', { outcome });
  }

  private async renew(entry: RunningJob, log: Logger): Promise<void> {
    if (entry.controller.signal.aborted) return;
    try {
      const state = await this.leases.renew(entry.job.id, entry.token, entry.progress);
      if (state === 'lost') entry.controller.abort(new JobAborted('lease_lost'));
      if (state === 'cancel_requested') entry.controller.abort(new JobAborted('cancelled'));
    } catch (error) {
      // The lease outlives a few missed renewals; the next tick tries again.
      log.warn('lease_renew_failed', { error: (error as Error).message });
    }
  }
}

export function newWorkerId(): string {
  return `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

