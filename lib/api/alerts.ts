import { Hono } from 'hono';
import { deleteRule, insertRule, listRules, updateRule } from '../db/alerts.ts';
import { ApiError } from '../errors.ts';
import type { AlertEvent, AlertRule, Destination } from '../model/alert.ts';
import { alertRequestContext, findAlertRule, sendTestEvent } from './alert-actions.ts';
import { alertEventsPage, decodeEventCursor } from './alert-events.ts';
import { paramsAsRequest, patchedRule, ruleFields } from './alert-params.ts';
import * as contract from './contract/alerts.ts';
import type { ApiDeps } from './deps.ts';
import { iso, presentJob } from './present.ts';

export function alertsRoutes(deps: ApiDeps) {
  const { sql } = deps;
  const known = alertRequestContext(deps);
  const findRule = (id: string): Promise<AlertRule> => findAlertRule(deps, id);

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
      const { events, next } = await alertEventsPage(deps, { limit, before: decodeEventCursor(cursor), ruleId });
      return c.json({ events: events.map(presentEvent), next });
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
    params: paramsAsRequest(rule),
    cool_down_minutes: rule.coolDownMinutes,
    enabled: rule.enabled,
    destinations: rule.destinations.map(presentDestination),
    created_at: iso(rule.createdAt),
    updated_at: iso(rule.updatedAt),
    last_event_at: iso(rule.lastEventAt),
  };
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
