import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { isConnectionError } from '../db/client.ts';
import { ApiError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { QueueFullError } from '../queue/queue.ts';

export function errorBody(code: string, message: string, extra: Record<string, unknown> = {}) {
  return { error: { code, message, ...extra } };
}

/** The one place errors become responses: ApiError as itself, outages as 503, anything else a logged 500. */
export function renderError(error: Error, c: Context, log: Logger, services: { redisReady(): boolean }): Response {
  if (error instanceof ApiError) {
    const headers: Record<string, string> = error.options.retryAfterSeconds ? { 'retry-after': String(error.options.retryAfterSeconds) } : {};
    return c.json(errorBody(error.code, error.message), error.status, headers);
  }
  if ((error as { code?: string }).code === '57014') {
    log.warn('query_timeout', { path: c.req.path });
    return c.json(errorBody('query_timeout', 'the database took longer than API_STATEMENT_TIMEOUT_MS to answer and the query was stopped; narrow the request (a source, a shorter period) or try again'), 504);
  }
  if (error instanceof HTTPException) {
    return c.json(errorBody(error.status === 401 ? 'unauthorized' : 'bad_request', error.message || 'bad request'), error.status);
  }
  if (error instanceof QueueFullError) {
    log.warn('queue_full', { path: c.req.path, waiting: error.waiting, cap: error.cap });
    return c.json(errorBody('queue_full', `the queue is full: ${error.message}; try again once workers have caught up`), 503, { 'retry-after': '30' });
  }
  if (isRedisOutOfMemory(error)) {
    log.error('redis_out_of_memory', { path: c.req.path, error: error.message });
    return c.json(
      errorBody('redis_full', 'the job queue (Redis) has reached its maxmemory and refuses writes: nothing was queued; raise maxmemory or let the queue drain, then try again'),
      503,
      { 'retry-after': '30' },
    );
  }
  if (isConnectionError(error)) {
    log.warn('postgres_unavailable', { path: c.req.path, error: error.message });
    return c.json(errorBody('database_unavailable', 'the database is not answering; try again shortly'), 503, { 'retry-after': '5' });
  }
  // Redis being away is told by the connection's own state, not by the wording of the error it led to.
  if (!services.redisReady() || error.name === 'MaxRetriesPerRequestError') {
    log.warn('redis_unavailable', { path: c.req.path, error: error.message });
    return c.json(errorBody('queue_unavailable', 'the job queue (Redis) is not answering; try again shortly'), 503, { 'retry-after': '5' });
  }
  log.error('request_failed', { method: c.req.method, path: c.req.path, error: error.stack ?? error.message });
  return c.json(errorBody('internal_error', 'something went wrong on our side; it has been logged'), 500);
}

/** Redis refuses writes past maxmemory with noeviction (as it must run here) with an "OOM command not allowed" reply. */
function isRedisOutOfMemory(error: Error): boolean {
  // A transaction refused for it reports EXECABORT, with the OOM reply among its queued commands' errors.
  const previous = (error as { previousErrors?: Error[] }).previousErrors ?? [];
  return [error, ...previous].some((e) => e.name === 'ReplyError' && e.message.startsWith('OOM '));
}
