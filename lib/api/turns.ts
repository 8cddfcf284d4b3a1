import { ApiError } from '../errors.ts';

/**
 * A limit on expensive work in one API process: `concurrency` at once, `queue` more waiting, the rest refused with a
 * 503, so a flood of full-text searches cannot take every database connection from the cheap reads.
 */
export class Turns {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly concurrency: number,
    private readonly queue: number,
    private readonly what: string,
  ) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    const release = await this.acquire();
    try {
      return await work();
    } finally {
      release();
    }
  }

  /** A turn held until the function it resolves with is called (once), for work that outlives a call: a stream. */
  async acquire(): Promise<() => void> {
    if (this.running >= this.concurrency) {
      if (this.waiting.length >= this.queue) {
        throw new ApiError(503, 'busy', `too many ${this.what} at once; try again in a few seconds`, { retryAfterSeconds: 2 });
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    this.running += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.running -= 1;
      this.waiting.shift()?.();
    };
  }
}
