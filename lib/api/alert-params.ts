// POST and PATCH /alerts at the edge: every field checked once, each failure a 400 naming the field and what was
// expected; the kind's parameters come back with their defaults filled in, so a stored rule says all it does.
import { randomBytes } from 'node:crypto';
import type { RuleFields } from '../db/alerts.ts';
import { ApiError } from '../errors.ts';
import { webhookUrlProblem } from '../http/webhook-client.ts';
import { isMailAddress } from '../mail/smtp.ts';
import {
  ALERT_KINDS,
  type AlertKind,
  type AlertRule,
  DESTINATION_TYPES,
  type Destination,
  type NewPostParams,
  type SpikeRuleParams,
} from '../model/alert.ts';
import { SENTIMENT_LABELS } from '../model/post.ts';
import { DEFAULT_COOL_DOWN_MINUTES } from '../alerts/cool-down.ts';
import type { SourceRegistry } from '../sources/registry.ts';
import { textProblem } from '../text.ts';
import { booleanField, integerField, requireFields, requireQuery, requireSource } from './validate.ts';

const RULE_FIELDS = ['name', 'kind', 'query', 'sources', 'params', 'cool_down_minutes', 'destinations', 'enabled'];
const EXAMPLE = '{"name":"1-star reviews","kind":"new_post","query":"acme.com","params":{"max_rating":1},"destinations":[{"type":"webhook","url":"https://hooks.example.com/vibe","secret":"…"}]}';
const MAX_DESTINATIONS = 10;
const MAX_RECIPIENTS = 10;
const MAX_KEYWORDS = 50;
const MAX_COOL_DOWN_MINUTES = 7 * 1440;
const SECRET_CHARS = { min: 16, max: 256 };
// The hourly rollup is what the windows are counted from: a window is a whole number of hours that divides a day.
export const WINDOW_MINUTES = [60, 120, 180, 240, 360, 480, 720, 1440];

export interface AlertRequestContext {
  sources: SourceRegistry;
  /** WEBHOOK_ALLOW_NETWORKS: the networks a destination may point at although they are not public. */
  allowNetworks: string[];
  /** Whether SMTP_URL is set, so email destinations can be sent. */
  emailConfigured: boolean;
}

/** POST /alerts. */
export function parseNewRule(body: unknown, context: AlertRequestContext): RuleFields {
  const fields = requireFields(body, RULE_FIELDS, EXAMPLE);
  for (const name of ['name', 'kind', 'destinations']) {
    if (fields[name] === undefined) throw new ApiError(400, `missing_${name}`, `\`${name}\` is required; e.g. ${EXAMPLE}`);
  }
  return parseRule(fields, null, context);
}

/** PATCH /alerts/{id}: the fields given replace the rule's; a destination given with its `id` keeps what it leaves out. */
export function parseRulePatch(body: unknown, current: AlertRule, context: AlertRequestContext): RuleFields {
  const fields = requireFields(body, RULE_FIELDS, '{"enabled":false}');
  if (Object.keys(fields).length === 0) throw new ApiError(400, 'empty_patch', `give at least one of ${RULE_FIELDS.join(', ')}`);
  const kindChanged = fields.kind !== undefined && fields.kind !== current.kind;
  // Parameters of another kind mean nothing to the new one: a new kind starts from its own defaults.
  const stored = kindChanged ? {} : storedParamsAsRequest(current);
  const params = fields.params === undefined ? stored : isObject(fields.params) ? { ...stored, ...fields.params } : fields.params;
  const merged: Record<string, unknown> = {
    name: current.name,
    kind: current.kind,
    query: current.query,
    sources: current.sources,
    cool_down_minutes: current.coolDownMinutes,
    enabled: current.enabled,
    ...fields,
    params,
  };
  return parseRule(merged, current, context, fields.destinations === undefined ? current.destinations : undefined);
}

function parseRule(fields: Record<string, unknown>, current: AlertRule | null, context: AlertRequestContext, keepDestinations?: Destination[]): RuleFields {
  const kind = parseKind(fields.kind);
  return {
    name: parseName(fields.name),
    kind,
    query: fields.query === undefined || fields.query === null ? null : requireQuery(fields.query),
    sources: parseSources(fields.sources, context.sources),
    params: kind === 'new_post' ? parseNewPostParams(fields.params) : parseSpikeParams(kind, fields.params),
    coolDownMinutes: integerField('cool_down_minutes', fields.cool_down_minutes, kind === 'new_post' ? 0 : DEFAULT_COOL_DOWN_MINUTES, 0, MAX_COOL_DOWN_MINUTES),
    destinations: keepDestinations ?? parseDestinations(fields.destinations, current?.destinations ?? [], context),
    enabled: booleanField('enabled', fields.enabled, true),
  };
}

function parseName(value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '' || value.trim().length > 100) {
    throw new ApiError(400, 'invalid_name', '`name` must be a string of 1 to 100 characters');
  }
  const problem = textProblem(value);
  if (problem) throw new ApiError(400, 'invalid_name', `\`name\` ${problem}`);
  return value.trim();
}

function parseKind(value: unknown): AlertKind {
  if (!(ALERT_KINDS as readonly unknown[]).includes(value)) throw new ApiError(400, 'invalid_kind', `\`kind\` must be one of ${ALERT_KINDS.join(', ')}`);
  return value as AlertKind;
}

function parseSources(value: unknown, sources: SourceRegistry): string[] | null {
  if (value === undefined || value === null) return null;
  if (!Array.isArray(value) || value.length === 0) {
    throw new ApiError(400, 'invalid_sources', '`sources` must be a non-empty array of source names, or null for every source');
  }
  return [...new Set(value.map((name) => requireSource(name, sources, 'sources[]')))].sort();
}

function parseNewPostParams(value: unknown): NewPostParams {
  const fields = requireParams(value, ['keywords', 'sentiments', 'max_rating'], '{"keywords":["outage"],"sentiments":["negative"],"max_rating":2}');
  const keywords = fields.keywords ?? [];
  if (!Array.isArray(keywords) || keywords.length > MAX_KEYWORDS || keywords.some((k) => typeof k !== 'string' || k.trim() === '' || k.length > 100 || textProblem(k) !== null)) {
    throw new ApiError(400, 'invalid_keywords', `\`params.keywords\` must be an array of at most ${MAX_KEYWORDS} words or phrases (1 to 100 characters each)`);
  }
  const sentiments = fields.sentiments ?? [];
  if (!Array.isArray(sentiments) || sentiments.some((s) => !(SENTIMENT_LABELS as readonly unknown[]).includes(s))) {
    throw new ApiError(400, 'invalid_sentiments', `\`params.sentiments\` must be an array of ${SENTIMENT_LABELS.join(', ')}`);
  }
  const maxRating = fields.max_rating ?? null;
  if (maxRating !== null && (typeof maxRating !== 'number' || !Number.isFinite(maxRating))) {
    throw new ApiError(400, 'invalid_max_rating', '`params.max_rating` must be a number (Trustpilot stars 1-5, votes elsewhere) or null');
  }
  return { keywords: [...new Set((keywords as string[]).map((k) => k.trim()))], sentiments: [...new Set(sentiments as NewPostParams['sentiments'])], maxRating };
}

function parseSpikeParams(kind: AlertKind, value: unknown): SpikeRuleParams {
  const names = ['window_minutes', 'baseline_days', 'k', 'min_baseline_days', kind === 'volume_spike' ? 'min_count' : 'min_volume'];
  const fields = requireParams(value, names, kind === 'volume_spike' ? '{"window_minutes":60,"baseline_days":14,"k":3,"min_count":3}' : '{"window_minutes":60,"baseline_days":14,"k":3,"min_volume":10}');
  const windowMinutes = fields.window_minutes ?? 60;
  if (!WINDOW_MINUTES.includes(windowMinutes as number)) {
    throw new ApiError(400, 'invalid_window_minutes', `\`params.window_minutes\` must be one of ${WINDOW_MINUTES.join(', ')} (whole hours that divide a day)`);
  }
  const baselineDays = integerField('baseline_days', fields.baseline_days, 14, 1, 90);
  const k = fields.k ?? 3;
  if (typeof k !== 'number' || !Number.isFinite(k) || k < 1 || k > 10) throw new ApiError(400, 'invalid_k', '`params.k` must be a number from 1 to 10 (σ above the expected count)');
  const minBaselineDays = integerField('min_baseline_days', fields.min_baseline_days, Math.min(7, baselineDays), 1, baselineDays);
  return {
    windowMinutes: windowMinutes as number,
    baselineDays,
    k,
    minBaselineDays,
    minCount: kind === 'volume_spike' ? integerField('min_count', fields.min_count, 3, 1, 1_000_000) : 0,
    minVolume: kind === 'negative_share_spike' ? integerField('min_volume', fields.min_volume, 10, 1, 1_000_000) : 0,
  };
}

function requireParams(value: unknown, allowed: string[], example: string): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (!isObject(value)) throw new ApiError(400, 'invalid_params', `\`params\` must be an object like ${example}`);
  const unknown = Object.keys(value).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) throw new ApiError(400, 'unknown_param', `unknown parameter ${unknown.map((k) => `\`${k}\``).join(', ')} for this kind; expected ${allowed.join(', ')}`);
  return value;
}

function parseDestinations(value: unknown, existing: Destination[], context: AlertRequestContext): Destination[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_DESTINATIONS) {
    throw new ApiError(400, 'invalid_destinations', `\`destinations\` must be an array of 1 to ${MAX_DESTINATIONS} destinations like {"type":"webhook","url":"https://…","secret":"…"}, {"type":"slack","url":"https://hooks.slack.com/…"} or {"type":"email","to":["ops@example.com"]}`);
  }
  return value.map((raw, index) => {
    const where = `destinations[${index}]`;
    if (!isObject(raw)) throw new ApiError(400, 'invalid_destinations', `\`${where}\` must be an object`);
    const unknown = Object.keys(raw).filter((key) => !['id', 'type', 'url', 'secret', 'to'].includes(key));
    if (unknown.length > 0) throw new ApiError(400, 'unknown_field', `unknown field ${unknown.map((k) => `\`${where}.${k}\``).join(', ')}; expected id, type, url, secret, to`);
    // A destination named by its id keeps the url and secret it is not given: secrets are never shown to copy back.
    const kept = raw.id === undefined ? undefined : existing.find((d) => d.id === raw.id);
    if (raw.id !== undefined && !kept) throw new ApiError(400, 'unknown_destination', `\`${where}.id\` names no destination of this rule`);
    const type = raw.type ?? kept?.type;
    if (!(DESTINATION_TYPES as readonly unknown[]).includes(type)) throw new ApiError(400, 'invalid_destination_type', `\`${where}.type\` must be one of ${DESTINATION_TYPES.join(', ')}`);
    if (type === 'email') return parseEmailDestination(raw, kept, where, context);
    if (raw.to !== undefined) throw new ApiError(400, 'invalid_destination_to', `\`${where}.to\` is for email destinations`);
    const url = raw.url ?? (kept?.type === 'email' ? undefined : kept?.url);
    if (typeof url !== 'string' || url.length > 2_000) throw new ApiError(400, 'invalid_destination_url', `\`${where}.url\` must be an http(s) URL of at most 2000 characters`);
    const problem = webhookUrlProblem(url, context.allowNetworks);
    if (problem) throw new ApiError(400, problem.includes('may not reach') ? 'destination_not_allowed' : 'invalid_destination_url', `\`${where}.url\` ${problem}`);
    let secret: string | null = null;
    if (type === 'webhook') {
      secret = (raw.secret ?? (kept?.type === 'webhook' ? kept.secret : undefined)) as string | null;
      if (typeof secret !== 'string' || secret.length < SECRET_CHARS.min || secret.length > SECRET_CHARS.max || textProblem(secret) !== null) {
        throw new ApiError(400, 'invalid_destination_secret', `\`${where}.secret\` must be ${SECRET_CHARS.min} to ${SECRET_CHARS.max} characters (e.g. \`openssl rand -hex 32\`): it signs every delivery`);
      }
    } else if (raw.secret !== undefined) {
      throw new ApiError(400, 'invalid_destination_secret', `\`${where}.secret\` is for webhook destinations; a Slack-compatible webhook's URL is its secret`);
    }
    return { id: kept?.id ?? randomBytes(6).toString('hex'), type: type as Destination['type'], url, secret };
  });
}

function parseEmailDestination(raw: Record<string, unknown>, kept: Destination | undefined, where: string, context: AlertRequestContext): Destination {
  if (!context.emailConfigured) throw new ApiError(400, 'email_not_configured', `\`${where}\` is an email destination, but this server has no SMTP_URL (and SMTP_FROM) to send it through`);
  if (raw.url !== undefined || raw.secret !== undefined) throw new ApiError(400, 'invalid_destination_to', `\`${where}\` is an email destination: give \`to\`, not \`url\` or \`secret\``);
  const to = raw.to ?? kept?.to;
  if (!Array.isArray(to) || to.length === 0 || to.length > MAX_RECIPIENTS || !to.every(isMailAddress)) {
    throw new ApiError(400, 'invalid_destination_to', `\`${where}.to\` must be 1 to ${MAX_RECIPIENTS} plain addresses such as "ops@example.com"`);
  }
  return { id: kept?.id ?? randomBytes(6).toString('hex'), type: 'email', url: '', secret: null, to: [...new Set(to as string[])] };
}

/** The stored parameters as a request would name them, so a PATCH of one parameter keeps the others. */
function storedParamsAsRequest(rule: AlertRule): Record<string, unknown> {
  if (rule.kind === 'new_post') {
    const p = rule.params as NewPostParams;
    return { keywords: p.keywords, sentiments: p.sentiments, max_rating: p.maxRating };
  }
  const p = rule.params as SpikeRuleParams;
  const common = { window_minutes: p.windowMinutes, baseline_days: p.baselineDays, k: p.k, min_baseline_days: p.minBaselineDays };
  return rule.kind === 'volume_spike' ? { ...common, min_count: p.minCount } : { ...common, min_volume: p.minVolume };
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
