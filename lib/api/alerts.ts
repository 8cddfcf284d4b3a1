import { Hono } from 'hono';
import { enqueueDeliveries } from '../alerts/deliveries.ts';
import { type EventCursor, deleteRule, getRule, insertRule, listEvents, listRules, recordTestEvent, updateRule, windowPostIds } from '../db/alerts.ts';
import { ApiError } from '../errors.ts';
import type { AlertEvent, AlertRule, Destination, NewPostParams, SpikeRuleParams } from '../model/alert.ts';
import { patchedRule, ruleFields } from './alert-params.ts';
import * as contract from './contract/alerts.ts';
import type { Known } from './contract/value.ts';
import type { ApiDeps } from './deps.ts';
import { iso, presentJob } from './present.ts';

const SAMPLE_POSTS = 3;
const SAMPLE_PERIOD_MS = 30 * 86_400_000;

export function alertsRoutes(deps: ApiDeps) {
  const { sql } = deps;
  const known: Known = {
    sources: deps.sources,
    destinations: { allowNetworks: deps.config.webhookAllowNetworks, emailConfigured: deps.config.smtpUrl !== null, existing: [] },
  };

  /** A rule by an id its route definition has checked the form of. */
  const findRule = async (id: string): Promise<AlertRule> => {
    const rule = await getRule(sql, id);
    if (!rule) throw new ApiError(404, 'alert_not_found', `no alert rule with id "${id}"`);
    return rule;
  };

  return new Hono()
    .get('/', async (c) => {
      await contract.listAlerts.read(c, known);
      return c.json({ alerts: (await listRules(sql)).map(presentRule) });
    })
    .post('/', async (c) => {
      const rule = await insertRule(sql, ruleFields((await contract.createAlert.read(c, known)).body));
      return c.json(presentRule(rule), 201, { location: `/alerts/${rule.id}` });
    })
    .get('/events', async (c) => {
      const { limit, rule_id: ruleId, before: cursor } = (await contract.listAlertEvents.read(c, known)).query;
      const before = decodeEventCursor(cursor);
      const rows = await listEvents(sql, { limit: limit + 1, before, ruleId });
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return c.json({ events: page.map(presentEvent), next: rows.length > limit && last ? encodeEventCursor(last.cursor) : null });
    })
    .get('/:id', async (c) => c.json(presentRule(await findRule((await contract.getAlert.read(c, known)).path.id))))
    .patch('/:id', async (c) => {
      // The rule is looked up first: a change is checked against the rule it changes.
      const current = await findRule(contract.updateAlert.readPath(c, known).id);
      const { body } = await contract.updateAlert.read(c, known);
      const updated = await updateRule(sql, current.id, patchedRule(body, current, known));
      if (!updated) throw new ApiError(404, 'alert_not_found', `no alert rule with id "${current.id}"`);
      return c.json(presentRule(updated));
    })
    .delete('/:id', async (c) => {
      const rule = await findRule((await contract.deleteAlert.read(c, known)).path.id);
      await deleteRule(sql, rule.id);
      return c.body(null, 204);
    })
    .post('/:id/test', async (c) => {
      const rule = await findRule(contract.testAlert.readPath(c, known).id);
      const { destination_id: only } = (await contract.testAlert.read(c, known)).body;
      if (only !== undefined && !rule.destinations.some((d) => d.id === only)) throw contract.unknownDestination();
      const now = Date.now();
      const postIds = await windowPostIds(sql, { query: rule.query, sources: rule.sources }, new Date(now - SAMPLE_PERIOD_MS), new Date(now + 1), SAMPLE_POSTS);
      const event = await recordTestEvent(sql, rule, { sample: true, note: 'a test event sent by POST /alerts/{id}/test; nothing fired' }, postIds);
      const jobs = await enqueueDeliveries(deps.queue, rule, event, deps.config.alertDeliveryMaxAttempts, only);
      return c.json({ job_id: jobs[0]!.id, job_ids: jobs.map((job) => job.id), event: presentEvent(event), jobs: jobs.map(presentJob) }, 202, { location: `/jobs/${jobs[0]!.id}` });
    });
}

export function presentRule(rule: AlertRule) {
  return {
    id: rule.id,
    name: rule.name,
    kind: rule.kind,
    query: rule.query,
    sources: rule.sources,
    params: presentParams(rule),
    cool_down_minutes: rule.coolDownMinutes,
    enabled: rule.enabled,
    destinations: rule.destinations.map(presentDestination),
    created_at: iso(rule.createdAt),
    updated_at: iso(rule.updatedAt),
    last_event_at: iso(rule.lastEventAt),
  };
}

function presentParams(rule: AlertRule) {
  if (rule.kind === 'new_post') {
    const p = rule.params as NewPostParams;
    return { keywords: p.keywords, sentiments: p.sentiments, max_rating: p.maxRating };
  }
  const p = rule.params as SpikeRuleParams;
  const common = { window_minutes: p.windowMinutes, baseline_days: p.baselineDays, k: p.k, min_baseline_days: p.minBaselineDays };
  return rule.kind === 'volume_spike' ? { ...common, min_count: p.minCount } : { ...common, min_volume: p.minVolume };
}

/**
 * Secrets are write-only: a webhook's secret is never shown, and its URL only as its origin and last four characters,
 * enough to tell two apart: a Slack-compatible URL is its own secret, and so are many generic ones (a token in the
 * path).
 */
function presentDestination(destination: Destination) {
  if (destination.type === 'email') return { id: destination.id, type: destination.type, to: destination.to ?? [] };
  const url = new URL(destination.url);
  return { id: destination.id, type: destination.type, url: `${url.origin}/…${destination.url.slice(-4)}`, has_secret: destination.type === 'slack' || destination.secret !== null };
}

export function presentEvent(event: AlertEvent) {
  return {
    id: event.id,
    rule_id: event.ruleId,
    rule_name: event.ruleName,
    kind: event.kind,
    fired_at: iso(event.firedAt),
    window_start: iso(event.windowStart),
    test: event.test,
    evidence: event.evidence,
    post_ids: event.postIds,
  };
}

function encodeEventCursor(cursor: EventCursor): string {
  return Buffer.from(JSON.stringify([cursor.firedAt, cursor.id])).toString('base64url');
}

const CURSOR_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?Z$/;

function decodeEventCursor(value: string | undefined): EventCursor | undefined {
  if (value === undefined || value === '') return undefined;
  const invalid = () => new ApiError(400, 'invalid_cursor', '`before` must be the `next` value of an earlier page of GET /alerts/events');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(parsed) || parsed.length !== 2) throw invalid();
  const [firedAt, id] = parsed;
  if (typeof firedAt !== 'string' || !CURSOR_TIME.test(firedAt) || Number.isNaN(Date.parse(firedAt)) || typeof id !== 'string' || !contract.ALERT_ID.test(id)) throw invalid();
  return { firedAt, id };
}
