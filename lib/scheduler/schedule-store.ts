// The schedules' state in Redis: which scheduler fired each tick, and how each schedule's last tick went.
import type { Redis } from 'ioredis';
import type { RedisKeys } from '../redis/keys.ts';
import type { ScheduleName } from './schedules.ts';

export interface LastRun {
  tick: string;
  job_id: string | null;
  note: string | null;
  error: string | null;
}

export class ScheduleStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  /**
   * Claims a tick for this scheduler: with two schedulers running, the first SET NX wins and the other skips, so
   * each tick fires once. The key outlives any clock skew between the two.
   */
  async claimTick(name: ScheduleName, tick: Date): Promise<boolean> {
    return (await this.redis.set(this.keys.scheduleTick(name, tick.toISOString()), String(process.pid), 'EX', 86_400, 'NX')) === 'OK';
  }

  async recordRun(name: ScheduleName, run: LastRun): Promise<void> {
    await this.redis.hset(this.keys.schedule(name), { tick: run.tick, job_id: run.job_id ?? '', note: run.note ?? '', error: run.error ?? '' });
  }

  async lastRun(name: ScheduleName): Promise<LastRun | null> {
    const hash = await this.redis.hgetall(this.keys.schedule(name));
    if (!hash.tick) return null;
    return { tick: hash.tick, job_id: hash.job_id || null, note: hash.note || null, error: hash.error || null };
  }
}
