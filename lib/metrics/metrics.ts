// Counters that GET /metrics reports for the whole product (HTTP requests, deliveries, posts ingested), kept in one Redis hash: the API runs as several
// processes (WORKERS) and workers come and go, so a counter in one process's memory would be a fraction that resets
// at every restart. Each write is a single HINCRBY (or a few, pipelined), never awaited on a request's path.
import type { Redis } from 'ioredis';
import type { Logger } from '../log.ts';
import type { RedisKeys } from '../redis/keys.ts';

/** Upper bounds (seconds) of vibe_http_request_duration_seconds. */
export const HTTP_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

export type DeliveryResult = 'delivered' | 'failed' | 'refused';

export interface HttpSample {
  route: string;
  method: string;
  status: number;
  seconds: number;
}

export interface MetricsCounters {
  http: { route: string; method: string; status: string; count: number }[];
  /** Per bucket (its own requests, not cumulative), with '+Inf'. */
  httpDuration: { buckets: Map<string, number>; sum: number; count: number };
  deliveries: { result: string; count: number }[];
  /** New posts stored by scrapes, per source. */
  posts: { source: string; count: number }[];
}

export class Metrics {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Pick<RedisKeys, 'metrics'>,
    private readonly log?: Logger,
  ) {}

  async webhookDelivery(result: DeliveryResult): Promise<void> {
    await this.redis.hincrby(this.keys.metrics, `webhook:${result}`, 1).catch((error: Error) => this.log?.warn('metrics_write_failed', { error: error.message }));
  }

  async postsIngested(source: string, count: number): Promise<void> {
    if (count <= 0) return;
    await this.redis.hincrby(this.keys.metrics, `posts:${source}`, count).catch((error: Error) => this.log?.warn('metrics_write_failed', { error: error.message }));
  }

  /** Fire and forget: a request never waits for, or fails because of, its own count. */
  httpRequest(sample: HttpSample): void {
    const bucket = HTTP_DURATION_BUCKETS.find((le) => sample.seconds <= le);
    this.redis
      .pipeline()
      .hincrby(this.keys.metrics, `http:${sample.method} ${sample.route} ${sample.status}`, 1)
      .hincrby(this.keys.metrics, `http_duration_le:${bucket === undefined ? '+Inf' : String(bucket)}`, 1)
      .hincrbyfloat(this.keys.metrics, 'http_duration_sum', sample.seconds)
      .hincrby(this.keys.metrics, 'http_duration_count', 1)
      .exec()
      .catch((error: Error) => this.log?.warn('metrics_write_failed', { error: error.message }));
  }

  async read(): Promise<MetricsCounters> {
    const hash = await this.redis.hgetall(this.keys.metrics);
    const counters: MetricsCounters = { http: [], httpDuration: { buckets: new Map(), sum: 0, count: 0 }, deliveries: [], posts: [] };
    for (const [field, value] of Object.entries(hash)) {
      const number = Number(value);
      if (field.startsWith('http:')) {
        const [method = '', route = '', status = ''] = field.slice('http:'.length).split(' ');
        counters.http.push({ method, route, status, count: number });
      } else if (field.startsWith('http_duration_le:')) counters.httpDuration.buckets.set(field.slice('http_duration_le:'.length), number);
      else if (field === 'http_duration_sum') counters.httpDuration.sum = number;
      else if (field === 'http_duration_count') counters.httpDuration.count = number;
      else if (field.startsWith('webhook:')) counters.deliveries.push({ result: field.slice('webhook:'.length), count: number });
      else if (field.startsWith('posts:')) counters.posts.push({ source: field.slice('posts:'.length), count: number });
    }
    return counters;
  }
}
