import type { FinishOutcome, FinishRequest, JobLeases } from '../queue/leases.ts';

const MOST_PER_CALL = 64;

interface Waiting {
  request: FinishRequest;
  resolve(outcome: FinishOutcome | 'fenced'): void;
  reject(error: unknown): void;
}

/**
 * Sends the finishes a worker's jobs ask for in the same turn as one script call: short jobs taken together end
 * together, and one round trip for all of them costs Redis and this process a fraction of one each. Nothing
 * waits for company: the batch leaves as soon as the current run of microtasks is over.
 */
export class FinishBatcher {
  private waiting: Waiting[] = [];

  constructor(private readonly leases: JobLeases) {}

  finish(request: FinishRequest): Promise<FinishOutcome | 'fenced'> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ request, resolve, reject });
      if (this.waiting.length === 1) queueMicrotask(() => this.flush());
    });
  }

  private flush(): void {
    const batch = this.waiting;
    this.waiting = [];
    for (let start = 0; start < batch.length; start += MOST_PER_CALL) {
      const part = batch.slice(start, start + MOST_PER_CALL);
      this.leases.finishMany(part.map((entry) => entry.request)).then(
        (outcomes) => part.forEach((entry, i) => entry.resolve(outcomes[i]!)),
        (error: unknown) => part.forEach((entry) => entry.reject(error)),
      );
    }
  }
}
