// Sends one event to one destination. The body is built when the attempt runs, from the event and the rule as they
// are now; every attempt of a generic webhook is signed afresh (its timestamp is the attempt's), and every attempt
// carries the same X-Vibe-Delivery id, so a receiver that saw it before can drop the repeat.
import { deliveryTarget } from '../alerts/deliveries.ts';
import { type DeliveryContent, emailMessage, signature, slackBody, webhookBody } from '../alerts/payloads.ts';
import { alertPosts, getEvent, getRule } from '../db/alerts.ts';
import type { Sql } from '../db/client.ts';
import { JobError, permanent } from '../errors.ts';
import type { WebhookClient } from '../http/webhook-client.ts';
import { type SmtpServer, sendMail } from '../mail/smtp.ts';
import type { Metrics } from '../metrics/metrics.ts';
import type { Job, JobContext } from '../model/job.ts';

const POSTS_SENT = 20;

export interface DeliveryDeps {
  sql: Sql;
  webhooks: WebhookClient;
  metrics: Metrics;
  /** SMTP_URL and SMTP_FROM; null when email is not set up. */
  smtp: SmtpServer | null;
}

export async function runAlertDelivery(job: Job, ctx: JobContext, deps: DeliveryDeps): Promise<Record<string, unknown>> {
  const target = deliveryTarget(job);
  if (!target) throw permanent('destination_gone', `the delivery job's query "${job.query}" does not name an event and a destination`);
  const event = await getEvent(deps.sql, target.eventId);
  if (!event) throw permanent('destination_gone', `event ${target.eventId} no longer exists`);
  const rule = event.ruleId === null ? null : await getRule(deps.sql, event.ruleId);
  const destination = rule?.destinations.find((d) => d.id === target.destinationId);
  if (!rule || !destination) throw permanent('destination_gone', `the rule of event ${event.id} or its destination ${target.destinationId} was deleted since`);
  const content: DeliveryContent = { rule, event, posts: await alertPosts(deps.sql, event.postIds.slice(0, POSTS_SENT)) };
  if (destination.type === 'email') return deliverEmail(job, ctx, deps, content, destination.to ?? []);
  const headers: Record<string, string> = { 'x-vibe-delivery': job.id, 'x-vibe-event': event.id };
  let body: string;
  if (destination.type === 'webhook') {
    body = webhookBody(content, job.id);
    if (destination.secret) headers['x-vibe-signature'] = signature(destination.secret, body, Math.floor(Date.now() / 1000));
  } else {
    body = slackBody(content);
  }
  try {
    const response = await deps.webhooks.post(destination.url, body, headers, ctx.signal);
    await deps.metrics.webhookDelivery('delivered');
    return { delivered: true, status: response.status, event_id: event.id, rule_id: rule.id, destination: destination.id, type: destination.type };
  } catch (error) {
    if (error instanceof JobError) await deps.metrics.webhookDelivery(error.code === 'delivery_refused' ? 'refused' : 'failed');
    throw error;
  }
}

async function deliverEmail(job: Job, ctx: JobContext, deps: DeliveryDeps, content: DeliveryContent, to: string[]): Promise<Record<string, unknown>> {
  if (!deps.smtp) throw permanent('destination_gone', 'this is an email destination, but the worker has no SMTP_URL and SMTP_FROM to send it through');
  try {
    const { accepted } = await sendMail(deps.smtp, { ...emailMessage(content), to, id: job.id }, ctx.signal);
    await deps.metrics.webhookDelivery('delivered');
    return { delivered: true, accepted, event_id: content.event.id, rule_id: content.rule.id, type: 'email', recipients: to.length };
  } catch (error) {
    if (error instanceof JobError) await deps.metrics.webhookDelivery('failed');
    throw error;
  }
}
