import { Hono } from 'hono';
import { enqueueDeliveries } from '../alerts/deliveries.ts';
import { type EventCursor, deleteRule, getRule, insertRule, listEvents, listRules, recordTestEvent, updateRule, windowPostIds } from '../db/alerts.ts';
import { ApiError } from '../errors.ts';
import type { AlertEvent, AlertRule, Destination, NewPostParams, SpikeRuleParams } from '../model/alert.ts';
import { parseNewRule, parseRulePatch } from './alert-params.ts';
import type { ApiDeps } from './deps.ts';
import { iso, presentJob } from './present.ts';
import { readJson } from './read-json.ts';
import { integerParam, requireFields } from './validate.ts';

const ID = /^[1-9]\d{0,17}$/;
const SAMPLE_POSTS = 3;
const SAMPLE_PERIOD_MS = 30 * 86_400_000;

export function alertsRoutes(deps: ApiDeps) {
  const { sql } = deps;
  const context = { sources: deps.sources, allowNetworks: deps.config.webhookAllowNetworks, emailConfigured: deps.config.smtpUrl !== null };

  const findRule = async (id: string): Promise<AlertRule> => {
    const rule = ID.test(id) ? await getRule(sql, id) : null;
    if (!rule) throw new ApiError(404, 'alert_not_found', `no alert rule with id "${id.slice(0, 64)}"`);
    return rule;
  };

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
      const rows = await listEvents(sql, { limit: limit + 1, before, ruleId });
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return c.json({ events: page.map(presentEvent), next: rows.length > limit && last ? encodeEventCursor(last.cursor) : null });
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
      if (only !== undefined && (typeof only !== 'string' || !rule.destinations.some((d) => d.id === only))) {
        throw new ApiError(400, 'unknown_destination', '`destination_id` must be the id of one of the rule\'s destinations (GET /alerts/{id})');
      }
      const now = Date.now();
      const postIds = await windowPostIds(sql, { query: rule.query, sources: rule.sources }, new Date(now - SAMPLE_PERIOD_MS), new Date(now + 1), SAMPLE_POSTS);
      const event = await recordTestEvent(sql, rule, { sample: true, note: 'a test event sent by POST /alerts/{id}/test; nothing fired' }, postIds);
      const jobs = await enqueueDeliveries(deps.queue, rule, event, deps.config.alertDeliveryMaxAttempts, only as string | undefined);
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
  if (typeof firedAt !== 'string' || !CURSOR_TIME.test(firedAt) || Number.isNaN(Date.parse(firedAt)) || typeof id !== 'string' || !ID.test(id)) throw invalid();
  return { firedAt, id };
}
