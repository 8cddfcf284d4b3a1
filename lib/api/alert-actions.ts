// What the alerts routes do beyond one query, written once for the JSON API and the dashboard's forms: finding a
// rule by the id a client gave, and sending a rule's sample event to its destinations.
import { enqueueDeliveries } from '../alerts/deliveries.ts';
import { getRule, recordTestEvent, windowPostIds } from '../db/alerts.ts';
import { ApiError } from '../errors.ts';
import type { AlertEvent, AlertRule } from '../model/alert.ts';
import type { Job } from '../model/job.ts';
import { ALERT_ID } from './contract/alerts.ts';
import type { Known } from './contract/value.ts';
import type { ApiDeps } from './deps.ts';

export { ALERT_ID };
const SAMPLE_POSTS = 3;
const SAMPLE_PERIOD_MS = 30 * 86_400_000;

/** What the alert routes' declarations check against: the sources, and where destinations may point. */
export function alertRequestContext(deps: Pick<ApiDeps, 'sources' | 'config'>): Known {
  return { sources: deps.sources, destinations: { allowNetworks: deps.config.webhookAllowNetworks, emailConfigured: deps.config.smtpUrl !== null, existing: [] } };
}

export async function findAlertRule(deps: Pick<ApiDeps, 'sql'>, id: string): Promise<AlertRule> {
  const rule = ALERT_ID.test(id) ? await getRule(deps.sql, id) : null;
  if (!rule) throw new ApiError(404, 'alert_not_found', `no alert rule with id "${id.slice(0, 64)}"`);
  return rule;
}

/**
 * A test event of the rule, with a few of its scope's recent posts as the sample, and one delivery job for each
 * destination (or only for `only`, a destination id). Nothing fires: the cool-down is left as it was.
 */
export async function sendTestEvent(deps: ApiDeps, rule: AlertRule, only?: unknown): Promise<{ event: AlertEvent; jobs: Job[] }> {
  if (only !== undefined && (typeof only !== 'string' || !rule.destinations.some((d) => d.id === only))) {
    throw new ApiError(400, 'unknown_destination', '`destination_id` must be the id of one of the rule\'s destinations (GET /alerts/{id})');
  }
  const now = Date.now();
  const postIds = await windowPostIds(deps.sql, { query: rule.query, sources: rule.sources }, new Date(now - SAMPLE_PERIOD_MS), new Date(now + 1), SAMPLE_POSTS);
  const event = await recordTestEvent(deps.sql, rule, { sample: true, note: 'a test event sent by POST /alerts/{id}/test; nothing fired' }, postIds);
  const jobs = await enqueueDeliveries(deps.queue, rule, event, deps.config.alertDeliveryMaxAttempts, only);
  return { event, jobs };
}
