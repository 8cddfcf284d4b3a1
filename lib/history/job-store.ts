// Where a job is looked up, in one place: Redis holds live jobs and finished ones for the retention period,
// PostgreSQL's history keeps them after that.
import type { Sql } from '../db/client.ts';
import { getJobHistory } from '../db/jobs.ts';
import type { Job } from '../model/job.ts';
import type { JobQueue } from '../queue/queue.ts';

export class JobStore {
  constructor(
    private readonly queue: JobQueue,
    private readonly sql: Sql,
  ) {}

  async get(id: string): Promise<Job | null> {
    return (await this.queue.get(id)) ?? (await getJobHistory(this.sql, id));
  }

  /** A scrape-all parent's children that still exist anywhere, in its order. */
  async children(parent: Job): Promise<Job[]> {
    const live = await this.queue.getMany(parent.children);
    const children: Job[] = [];
    for (const [index, child] of live.entries()) {
      const found = child ?? (await getJobHistory(this.sql, parent.children[index]!));
      if (found) children.push(found);
    }
    return children;
  }
}
