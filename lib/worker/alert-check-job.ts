// The scheduled check (the alert-check schedule enqueues it): every spike rule judges the window that just ended
// and the open one, so a source that went quiet still ends its window.
import type { AlertEvaluator } from '../alerts/evaluator.ts';
import type { Job, JobContext } from '../model/job.ts';

export async function runAlertCheck(_job: Job, ctx: JobContext, evaluator: AlertEvaluator): Promise<Record<string, unknown>> {
  ctx.signal.throwIfAborted();
  const { rules, events, redelivered } = await evaluator.scheduled();
  return { rules, events: events.length, event_ids: events.map((event) => event.id), redelivered: redelivered.map((event) => event.id) };
}
