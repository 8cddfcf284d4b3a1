import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { permanent, transient } from '../lib/errors.ts';
import type { Job } from '../lib/model/job.ts';
import { decideOutcome } from '../lib/worker/outcome.ts';

const job = (attempts: number, maxAttempts = 3): Job => ({
  id: 'j', kind: 'scrape', source: 's', query: 'q', limit: 1, priority: 0, status: 'running', attempts, maxAttempts,
  createdAt: 0, startedAt: 0, finishedAt: null, runAt: null, progress: null, result: null, error: null, previousError: null,
  timeoutMs: null, worker: 'w', cancelRequested: false, fullRescan: false, parent: null, children: [],
});
const context = { settings: { retryBaseMs: 1_000 }, timeLimit: { ms: 60_000, onExpiry: 'retry' as const }, progress: null, now: 1_000_000 };

describe('the outcome policy decides how every attempt ends', () => {
  test('a transient failure before the last attempt is retried after a backoff, saying when', () => {
    const decision = decideOutcome(job(1), { kind: 'threw', error: transient('upstream_unavailable', 'down') }, context);
    assert.equal(decision.outcome, 'retry');
    assert.ok(decision.outcome === 'retry' && decision.details.retryAt! > context.now);
    assert.match(decision.outcome === 'retry' ? decision.details.error!.message : '', /^down; attempt 1 of 3, retrying in \d+ s$/);
  });

  test('an upstream Retry-After pushes the retry back at least that far', () => {
    const decision = decideOutcome(job(1), { kind: 'threw', error: transient('upstream_rate_limited', 'slow', 600_000) }, context);
    assert.ok(decision.outcome === 'retry' && decision.details.retryAt! >= context.now + 600_000);
  });

  test('on the last attempt, or for a permanent error, the job fails and promises nothing', () => {
    const last = decideOutcome(job(3), { kind: 'threw', error: transient('upstream_unavailable', 'down') }, context);
    assert.equal(last.outcome, 'failed');
    assert.equal(last.outcome === 'failed' && last.details.error!.message, 'down; gave up after 3 attempts');
    const blocked = decideOutcome(job(1), { kind: 'threw', error: permanent('upstream_blocked', 'blocked') }, context);
    assert.equal(blocked.outcome === 'failed' && blocked.details.error!.message, 'blocked');
  });

  test('a delivery that cannot be made goes to the dead-letter list, saying how to send it again; before its last attempt it is retried', () => {
    const delivery = (attempts: number): Job => ({ ...job(attempts), kind: 'alert-delivery' });
    const last = decideOutcome(delivery(3), { kind: 'threw', error: transient('delivery_unavailable', 'HTTP 500') }, context);
    assert.equal(last.outcome, 'dead');
    assert.match(last.outcome === 'dead' ? last.details.error!.message : '', /^HTTP 500; gave up after 3 attempts; kept in the dead-letter list: POST \/jobs\/j\/retry/);
    assert.equal(decideOutcome(delivery(1), { kind: 'threw', error: permanent('delivery_rejected', 'HTTP 410') }, context).outcome, 'dead');
    assert.equal(decideOutcome(delivery(1), { kind: 'threw', error: transient('delivery_unavailable', 'HTTP 503', 5_000) }, context).outcome, 'retry');
  });

  test('our own database being down never uses up an attempt', () => {
    const decision = decideOutcome(job(3), { kind: 'threw', error: transient('database_unavailable', 'pg down') }, context);
    assert.equal(decision.outcome, 'retry');
    assert.ok(decision.outcome === 'retry' && decision.details.keepAttempt === true && decision.details.retryAt! <= context.now + 30_000);
  });

  test('a time limit that says fail fails for good with its hint; one that says retry is retried', () => {
    const backup = decideOutcome(job(1), { kind: 'aborted', cause: 'timed_out' }, { ...context, timeLimit: { ms: 5_000, onExpiry: 'fail', hint: 'raise X' } });
    assert.equal(backup.outcome === 'failed' && backup.details.error!.message, 'the attempt ran longer than its time limit of 5 s and was stopped: raise X');
    assert.equal(decideOutcome(job(1), { kind: 'aborted', cause: 'timed_out' }, context).outcome, 'retry');
  });

  test('a cancel ends cancelled, a shutdown hands the job back, a lost lease writes nothing', () => {
    assert.equal(decideOutcome(job(1), { kind: 'aborted', cause: 'cancelled' }, context).outcome, 'cancelled');
    assert.equal(decideOutcome(job(1), { kind: 'aborted', cause: 'shutdown' }, context).outcome, 'release');
    assert.equal(decideOutcome(job(1), { kind: 'aborted', cause: 'lease_lost' }, context).outcome, null);
  });

  test('anything thrown that is not a JobError is a transient internal error', () => {
    const decision = decideOutcome(job(1), { kind: 'threw', error: new TypeError('oops') }, context);
    assert.equal(decision.outcome === 'retry' && decision.details.error!.code, 'internal');
  });
});
