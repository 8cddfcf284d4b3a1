/** Requests to one upstream host, across the whole fleet of workers. */
export interface RateLimit {
  requests: number;
  perMs: number;
  /** Requests in flight at once to one host. */
  concurrency: number;
}
