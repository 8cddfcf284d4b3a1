import { Hono } from 'hono';
import { deleteRule, insertRule, listRules, updateRule } from '../db/alerts.ts';
import { ApiError } from '../errors.ts';
import type { AlertEvent, AlertRule, Destination, NewPostParams, SpikeRuleParams } from '../model/alert.ts';
import { ALERT_ID as ID, alertRequestContext, findAlertRule, sendTestEvent } from './alert-actions.ts';
import { alertEventsPage, decodeEventCursor } from './alert-events.ts';
import { parseNewRule, parseRulePatch } from './alert-params.ts';
import type { ApiDeps } from './deps.ts';
import { iso, presentJob } from './present.ts';
import { readJson } from './read-json.ts';
import { integerParam, requireFields } from './validate.ts';

export function alertsRoutes(deps: ApiDeps) {
  const { sql } = deps;
  const context = alertRequestContext(deps);
  const findRule = (id: string): Promise<AlertRule> => findAlertRule(deps, id);

  return new Hono()
    .get('/', async (c) => c.json({ alerts: (await listRules(sql)).map(presentRule) }))
    .post('/', async (c) => {
      const rule = await insertRule(sql, parseNewRule(await readJson(c.req.raw), context));
      return c.json(presentRule(rule), 201, { location: `/alerts/${rule.id}` });
    })
    .get('/events', async (c) => {
      const limit = integerParam('limit', c.req.query('limit'), 50, 1, 200);
      const ruleId = c.req.query('rule_id');
      if (ruleId !== undefined && !ID.test(ruleId)) throw new ApiError(400, 'invalid_rule_id', '`rule_id` must be the id of an alert rule');
      const before = decodeEventCursor(c.req.query('before'));
      const { events, next } = await alertEventsPage(deps, { limit, before, ruleId });
      return c.json({ events: events.map(presentEvent), next });
    })
    .get('/:id', async (c) => c.json(presentRule(await findRule(c.req.param('id')))))
    .patch('/:id', async (c) => {
      const current = await findRule(c.req.param('id'));
      const updated = await updateRule(sql, current.id, parseRulePatch(await readJson(c.req.raw), current, context));
      if (!updated) throw new ApiError(404, 'alert_not_found', `no alert rule with id "${current.id}"`);
      return c.json(presentRule(updated));
    })
    .delete('/:id', async (c) => {
      const rule = await findRule(c.req.param('id'));
      await deleteRule(sql, rule.id);
      return c.body(null, 204);
    })
    .post('/:id/test', async (c) => {
      const rule = await findRule(c.req.param('id'));
      const { destination_id: only } = requireFields(await readJson(c.req.raw), ['destination_id'], '{"destination_id":"…"}, or empty');
      const { event, jobs } = await sendTestEvent(deps, rule, only);
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
