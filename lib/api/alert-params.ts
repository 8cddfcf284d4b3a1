// POST and PATCH /alerts after the declarations (lib/api/contract/alert-rule.ts) have checked the values: a PATCH is
// merged with the stored rule in the request's own terms, then checked as a whole rule by the same fields.
import type { RuleFields } from '../db/alerts.ts';
import type { AlertRule, Destination, NewPostParams, SpikeRuleParams } from '../model/alert.ts';
import { createAlert, ruleBody, updateAlert } from './contract/alerts.ts';
import type { BodyOf } from './contract/route.ts';
import type { Known } from './contract/value.ts';

/** A rule as checked; `keep`: the destinations of a PATCH that names none. */
export function ruleFields(body: BodyOf<typeof createAlert>, keep?: Destination[]): RuleFields {
  return {
    name: body.name!,
    kind: body.kind!,
    query: body.query ?? null,
    sources: body.sources ? [...body.sources].sort() : null,
    params: body.params,
    coolDownMinutes: body.cool_down_minutes,
    destinations: keep ?? body.destinations!,
    enabled: body.enabled,
  };
}

/** PATCH /alerts/{id}: the fields given replace the rule's; a destination given with its `id` keeps what it leaves out. */
export function patchedRule(patch: BodyOf<typeof updateAlert>, current: AlertRule, known: Known): RuleFields {
  const kindChanged = patch.kind !== undefined && patch.kind !== current.kind;
  // Parameters of another kind mean nothing to the new one: a new kind starts from its own defaults.
  const stored = kindChanged ? {} : paramsAsRequest(current);
  const params = patch.params === undefined ? stored : isObject(patch.params) ? { ...stored, ...patch.params } : patch.params;
  const merged: Record<string, unknown> = {
    name: current.name,
    kind: current.kind,
    query: current.query,
    sources: current.sources,
    cool_down_minutes: current.coolDownMinutes,
    enabled: current.enabled,
    ...Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined)),
    params,
  };
  const body = ruleBody.parse(merged, { ...known, destinations: { ...known.destinations!, existing: current.destinations } });
  return ruleFields(body, patch.destinations === undefined ? current.destinations : undefined);
}

/** The stored parameters as a request names them: what GET /alerts shows, and what a PATCH of one parameter keeps. */
export function paramsAsRequest(rule: AlertRule): Record<string, unknown> {
  if (rule.kind === 'new_post') {
    const p = rule.params as NewPostParams;
    return { keywords: p.keywords, sentiments: p.sentiments, max_rating: p.maxRating };
  }
  const p = rule.params as SpikeRuleParams;
  const common = { window_minutes: p.windowMinutes, baseline_days: p.baselineDays, k: p.k, min_baseline_days: p.minBaselineDays };
  return rule.kind === 'volume_spike' ? { ...common, min_count: p.minCount } : { ...common, min_volume: p.minVolume };
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

export { WINDOW_MINUTES } from './contract/alert-rule.ts';

/** POST /alerts's checks on a body at hand (the dashboard's form). */
export function parseNewRule(raw: unknown, known: Known): RuleFields {
  return ruleFields(createAlert.parse({ body: raw }, known).body);
}

/** PATCH /alerts/{id}'s checks on a body at hand (the dashboard's Enable and Disable). */
export function parseRulePatch(raw: unknown, current: AlertRule, known: Known): RuleFields {
  return patchedRule(updateAlert.parse({ body: raw }, known).body, current, known);
}
