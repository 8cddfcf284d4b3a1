// What the API shows: times as ISO 8601 UTC strings, snake_case fields, nothing internal (lease tokens).
import type { StoredPost } from '../db/posts.ts';
import type { Job } from '../model/job.ts';

/** A time as ISO 8601 UTC, from milliseconds or a Date; null stays null. */
export const iso = (time: number | Date | null) => (time === null ? null : new Date(time).toISOString());

export function presentJob(job: Job) {
  return {
    id: job.id,
    kind: job.kind,
    status: job.status,
    source: job.source,
    query: job.query,
    limit: job.limit,
    priority: job.priority,
    attempts: job.attempts,
    max_attempts: job.maxAttempts,
    progress: job.progress,
    created_at: iso(job.createdAt),
    started_at: iso(job.startedAt),
    finished_at: iso(job.finishedAt),
    retry_at: iso(job.runAt),
    result: job.result,
    error: job.error ? { code: job.error.code, message: job.error.message, attempt: job.error.attempt ?? null } : null,
    previous_error: job.previousError ? { code: job.previousError.code, message: job.previousError.message } : null,
    timeout_ms: job.timeoutMs,
    full_rescan: job.fullRescan,
    parent: job.parent,
    cancel_requested: job.cancelRequested,
    worker: job.worker,
  };
}

export function presentPost(post: StoredPost) {
  return {
    id: post.id,
    source: post.source,
    external_id: post.external_id,
    query: post.query,
    url: post.url || null,
    author: post.author,
    title: post.title,
    text: post.text,
    rating: post.rating,
    language: post.language,
    published_at: iso(post.published_at),
    reply: post.reply ? { text: post.reply.text, published_at: iso(post.reply.published_at) } : null,
    extra: post.extra,
    sentiment: post.sentiment,
    first_seen_at: iso(post.first_seen_at),
  };
}
