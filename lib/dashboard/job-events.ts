// A job's live progress as Server-Sent Events: Redis is read about once a second for each open stream, a new
// state is sent when it changes (a comment every 15 s otherwise, so proxies keep the connection), and the stream
// ends when the job has finished or the browser goes away. Streams are counted per process and refused past
// DASHBOARD_MAX_STREAMS, as each one holds a connection and polls.
import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import { ApiError } from '../errors.ts';
import type { JobStore } from '../history/job-store.ts';
import { jobState } from './job-state.ts';

const POLL_MS = 1_000;
const KEEP_ALIVE_MS = 15_000;

export class JobEvents {
  private open = 0;

  constructor(
    private readonly store: JobStore,
    private readonly maxStreams: number,
    private readonly pollMs = POLL_MS,
  ) {}

  get streams(): number {
    return this.open;
  }

  respond(c: Context, id: string): Response {
    if (this.open >= this.maxStreams) {
      throw new ApiError(503, 'too_many_streams', `${this.open} live streams are open on this API process, the most DASHBOARD_MAX_STREAMS allows; reload the page later`, { retryAfterSeconds: 10 });
    }
    this.open += 1;
    let released = false;
    const release = () => {
      if (!released) this.open -= 1;
      released = true;
    };
    c.header('cache-control', 'no-store');
    // nginx buffers proxied answers by default, which would hold the events back.
    c.header('x-accel-buffering', 'no');
    return streamSSE(
      c,
      async (stream) => {
        let gone = false;
        stream.onAbort(() => {
          gone = true;
          release();
        });
        try {
          let last = '';
          let lastSent = Date.now();
          while (!gone) {
            const job = await this.store.get(id);
            if (!job) {
              await stream.writeSSE({ event: 'gone', data: '{}' });
              break;
            }
            const { state } = await jobState(this.store, job);
            const data = JSON.stringify(state);
            if (data !== last) {
              await stream.writeSSE({ event: 'job', data });
              last = data;
              lastSent = Date.now();
            } else if (Date.now() - lastSent >= KEEP_ALIVE_MS) {
              await stream.write(': keep-alive\n\n');
              lastSent = Date.now();
            }
            if (state.final) break;
            await stream.sleep(this.pollMs);
          }
        } finally {
          release();
        }
      },
      async () => release(),
    );
  }
}
