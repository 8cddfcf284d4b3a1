// GET /metrics in the Prometheus text format (version 0.0.4). Everything in it is global, read at scrape time from
// where it is kept for every process: the queue's lists and its finish-time counters (Redis, written by the finish
// script in the same step that ends each attempt), the HTTP, delivery and ingest counters (one Redis hash,
// lib/metrics/), and what PostgreSQL holds (sources' last successful runs, alert events). So any API process
// answers the same, and nothing resets when one restarts.
import { Hono } from 'hono';
import { eventCountsByRule } from '../db/alerts.ts';
import { listSourceRuns } from '../db/sources.ts';
import { HTTP_DURATION_BUCKETS, type Metrics } from '../metrics/metrics.ts';
import { JOB_DURATION_BUCKETS } from '../model/job.ts';
import * as contract from './contract/others.ts';
import type { ApiDeps } from './deps.ts';

const WORKER_HEARTBEAT_MS = 15_000;

export function metricsRoutes(deps: ApiDeps, metrics: Metrics) {
  return new Hono().get('/', async (c) => {
    await contract.metrics.read(c, deps);
    const text = await renderMetrics(deps, metrics);
    return c.body(text, 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'cache-control': 'no-store' });
  });
}

/** The app of METRICS_LISTEN: GET /metrics alone, without a token, for a scraper on a private network. */
export function metricsOnlyApp(deps: ApiDeps, metrics: Metrics): Hono {
  const app = new Hono({ strict: false });
  app.route('/metrics', metricsRoutes(deps, metrics));
  app.notFound((c) => c.json({ error: { code: 'not_found', message: 'this address serves GET /metrics only' } }, 404));
  app.onError((error, c) => {
    deps.log.error('metrics_failed', { error: error.message });
    return c.json({ error: { code: 'internal_error', message: 'the metrics could not be read; it has been logged' } }, 500);
  });
  return app;
}

export async function renderMetrics(deps: Pick<ApiDeps, 'queue' | 'sql'>, metrics: Metrics): Promise<string> {
  const { queue, sql } = deps;
  const [counts, jobCounters, workers, nextAgeMs, counters, runs, events] = await Promise.all([
    queue.counts(),
    queue.jobCounters(),
    queue.liveWorkers(WORKER_HEARTBEAT_MS),
    queue.nextJobAgeMs(),
    metrics.read(),
    listSourceRuns(sql),
    eventCountsByRule(sql),
  ]);
  const out = new Exposition();
  out.family('vibe_jobs', 'gauge', 'Jobs in the queue by state (running: taken by a worker; delayed: waiting for a retry; dead: in the dead-letter list).', [
    [{ state: 'pending' }, counts.pending],
    [{ state: 'running' }, counts.processing],
    [{ state: 'delayed' }, counts.delayed],
    [{ state: 'dead' }, counts.dead],
  ]);
  out.family('vibe_jobs_completed_total', 'counter', 'Jobs completed.', [[{}, jobCounters.completed]]);
  out.family('vibe_jobs_failed_total', 'counter', 'Jobs that failed for good (failed or dead-lettered), by error code.',
    [...jobCounters.failed].sort(([a], [b]) => a.localeCompare(b)).map(([code, value]) => [{ code }, value]));
  out.histogram('vibe_job_duration_seconds', 'How long each attempt of a job ran, from its start to its end.', JOB_DURATION_BUCKETS, jobCounters.duration);
  out.family('vibe_queue_latency_seconds', 'gauge', 'Age of the job that runs next (the oldest of the most urgent waiting ones); 0 when none waits.', [[{}, nextAgeMs / 1000]]);
  out.family('vibe_workers', 'gauge', `Workers that sent a heartbeat in the last ${WORKER_HEARTBEAT_MS / 1000} s.`, [[{}, workers.length]]);
  out.family('vibe_posts_ingested_total', 'counter', 'New posts stored by scrapes, by source.',
    counters.posts.sort((a, b) => a.source.localeCompare(b.source)).map((row) => [{ source: row.source }, row.count]));
  out.family('vibe_source_last_success_timestamp_seconds', 'gauge', "Unix time of each source's last successful scrape.",
    runs.filter((run) => run.last_success_at).sort((a, b) => a.source.localeCompare(b.source)).map((run) => [{ source: run.source }, run.last_success_at!.getTime() / 1000]));
  out.family('vibe_alert_events_total', 'counter', 'Alert events fired, by rule name (test events left out).', events.map((row) => [{ rule: row.rule }, row.events]));
  out.family('vibe_webhook_deliveries_total', 'counter', 'Alert delivery attempts, by result (delivered, failed, refused by the SSRF rules).',
    counters.deliveries.sort((a, b) => a.result.localeCompare(b.result)).map((row) => [{ result: row.result }, row.count]));
  out.family('vibe_http_requests_total', 'counter', 'API requests, by route pattern, method and status.',
    counters.http.sort((a, b) => `${a.route} ${a.method} ${a.status}`.localeCompare(`${b.route} ${b.method} ${b.status}`)).map((row) => [{ route: row.route, method: row.method, status: row.status }, row.count]));
  out.histogram('vibe_http_request_duration_seconds', 'How long the API took to answer, from the request to its response headers.', HTTP_DURATION_BUCKETS, counters.httpDuration);
  return out.text();
}

type Labels = Record<string, string>;

class Exposition {
  private readonly lines: string[] = [];

  family(name: string, type: 'counter' | 'gauge', help: string, samples: [Labels, number][]): void {
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) this.lines.push(`${name}${labelText(labels)} ${numberText(value)}`);
  }

  /** `buckets` holds each bucket's own count (as kept); the exposition's buckets are cumulative. */
  histogram(name: string, help: string, bounds: readonly number[], data: { buckets: Map<string, number>; sum: number; count: number }): void {
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} histogram`);
    let cumulative = 0;
    for (const le of bounds) {
      cumulative += data.buckets.get(String(le)) ?? 0;
      this.lines.push(`${name}_bucket{le="${le}"} ${cumulative}`);
    }
    cumulative += data.buckets.get('+Inf') ?? 0;
    this.lines.push(`${name}_bucket{le="+Inf"} ${cumulative}`, `${name}_sum ${numberText(data.sum)}`, `${name}_count ${cumulative}`);
  }

  text(): string {
    return `${this.lines.join('\n')}\n`;
  }
}

function labelText(labels: Labels): string {
  const pairs = Object.entries(labels);
  if (pairs.length === 0) return '';
  return `{${pairs.map(([key, value]) => `${key}="${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n')}"`).join(',')}}`;
}

function numberText(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}
