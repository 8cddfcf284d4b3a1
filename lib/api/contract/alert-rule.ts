// The fields of an alert rule as a request writes them, each one definition that checks it and describes it: the
// kind's parameters come back with their defaults filled in, so a stored rule says all it does.
import { randomBytes } from 'node:crypto';
import { DEFAULT_COOL_DOWN_MINUTES } from '../../alerts/cool-down.ts';
import { ApiError } from '../../errors.ts';
import { webhookUrlProblem } from '../../http/webhook-client.ts';
import { isMailAddress } from '../../mail/smtp.ts';
import { ALERT_KINDS, type AlertKind, type AlertParams, DESTINATION_TYPES, type Destination } from '../../model/alert.ts';
import { SENTIMENT_LABELS } from '../../model/post.ts';
import { textProblem } from '../../text.ts';
import { USER_TEXT_PATTERN, boolean, integer, integerField, list, queryText, requireQuery, sourceName } from './body.ts';
import { type JsonSchema, type Value, value } from './value.ts';

const MAX_NAME_LENGTH = 100;
const MAX_DESTINATIONS = 10;
const MAX_RECIPIENTS = 10;
const MAX_KEYWORDS = 50;
const MAX_URL_LENGTH = 2_000;
const MAX_COOL_DOWN_MINUTES = 7 * 1440;
const SECRET_CHARS = { min: 16, max: 256 };
// The hourly rollup is what the windows are counted from: a window is a whole number of hours that divides a day.
export const WINDOW_MINUTES = [60, 120, 180, 240, 360, 480, 720, 1440];

const isObject = (raw: unknown): raw is Record<string, unknown> => typeof raw === 'object' && raw !== null && !Array.isArray(raw);

const name = value<string | undefined>({
  codes: () => ['invalid_name'],
  required: true,
  description: 'what the rule is called in its events and deliveries',
  schema: () => ({ type: 'string', minLength: 1, maxLength: MAX_NAME_LENGTH, pattern: USER_TEXT_PATTERN }),
  parse(raw) {
    if (raw === undefined) return undefined;
    if (typeof raw !== 'string' || raw.trim() === '' || raw.trim().length > MAX_NAME_LENGTH) {
      throw new ApiError(400, 'invalid_name', `\`name\` must be a string of 1 to ${MAX_NAME_LENGTH} characters`);
    }
    const problem = textProblem(raw);
    if (problem) throw new ApiError(400, 'invalid_name', `\`name\` ${problem}`);
    return raw.trim();
  },
});

const kind = value<AlertKind | undefined>({
  codes: () => ['invalid_kind'],
  required: true,
  description: 'what makes it fire; `params` are those of the kind',
  schema: () => ({ type: 'string', enum: [...ALERT_KINDS] }),
  parse(raw) {
    if (raw === undefined) return undefined;
    if (!(ALERT_KINDS as readonly unknown[]).includes(raw)) throw new ApiError(400, 'invalid_kind', `\`kind\` must be one of ${ALERT_KINDS.join(', ')}`);
    return raw as AlertKind;
  },
});

const trackedQuery = queryText({ required: false, description: '' });
const query = value<string | null | undefined>({
  codes: () => trackedQuery.codes('query'),
  required: false,
  description: 'the tracked query it watches; left out or null: every query',
  schema: (known) => ({ oneOf: [trackedQuery.schema(known), { type: 'null' }] }),
  parse: (raw) => (raw === undefined || raw === null ? (raw as null | undefined) : requireQuery(raw)),
});

const sources = list(sourceName({ required: true, description: 'a source' }), {
  itemName: 'sources[]',
  expected: 'a non-empty array of source names, or null for every source',
  nullable: true,
  description: 'the sources it watches; left out or null: every source',
});

const keywords = value<string[]>({
  codes: () => ['invalid_keywords'],
  required: false,
  description: 'any one of them, case-insensitive, in the title or text; empty: any post',
  schema: () => ({ type: 'array', maxItems: MAX_KEYWORDS, items: { type: 'string', minLength: 1, maxLength: 100, pattern: USER_TEXT_PATTERN }, default: [] }),
  parse(given) {
    // A client may send null for a parameter it does not set: like one left out, it takes the default.
    const raw = given ?? [];
    if (!Array.isArray(raw) || raw.length > MAX_KEYWORDS || raw.some((k) => typeof k !== 'string' || k.trim() === '' || k.length > 100 || textProblem(k) !== null)) {
      throw new ApiError(400, 'invalid_keywords', `\`params.keywords\` must be an array of at most ${MAX_KEYWORDS} words or phrases (1 to 100 characters each)`);
    }
    return [...new Set((raw as string[]).map((k) => k.trim()))];
  },
});

const sentiments = value<(typeof SENTIMENT_LABELS)[number][]>({
  codes: () => ['invalid_sentiments'],
  required: false,
  description: 'only posts with one of these labels; empty: any',
  schema: () => ({ type: 'array', items: { type: 'string', enum: [...SENTIMENT_LABELS] }, default: [] }),
  parse(given) {
    const raw = given ?? [];
    if (!Array.isArray(raw) || raw.some((s) => !(SENTIMENT_LABELS as readonly unknown[]).includes(s))) {
      throw new ApiError(400, 'invalid_sentiments', `\`params.sentiments\` must be an array of ${SENTIMENT_LABELS.join(', ')}`);
    }
    return [...new Set(raw as (typeof SENTIMENT_LABELS)[number][])];
  },
});

const maxRating = value<number | null>({
  codes: () => ['invalid_max_rating'],
  required: false,
  description: 'only posts rated at most this (Trustpilot stars, votes elsewhere); null: any',
  schema: () => ({ oneOf: [{ type: 'number' }, { type: 'null' }], default: null }),
  parse(given) {
    const raw = given ?? null;
    if (raw !== null && (typeof raw !== 'number' || !Number.isFinite(raw))) {
      throw new ApiError(400, 'invalid_max_rating', '`params.max_rating` must be a number (Trustpilot stars 1-5, votes elsewhere) or null');
    }
    return raw as number | null;
  },
});

const windowMinutes = value<number>({
  codes: () => ['invalid_window_minutes'],
  required: false,
  description: 'the window a spike is counted in: whole hours that divide a day, on a UTC grid',
  schema: () => ({ type: 'integer', enum: WINDOW_MINUTES, default: 60 }),
  parse(given) {
    const raw = given ?? 60;
    if (!WINDOW_MINUTES.includes(raw as number)) {
      throw new ApiError(400, 'invalid_window_minutes', `\`params.window_minutes\` must be one of ${WINDOW_MINUTES.join(', ')} (whole hours that divide a day)`);
    }
    return raw as number;
  },
});

const k = value<number>({
  codes: () => ['invalid_k'],
  required: false,
  description: 'how many σ above the expected count (or share) fires',
  schema: () => ({ type: 'number', minimum: 1, maximum: 10, default: 3 }),
  parse(given) {
    const raw = given ?? 3;
    if (typeof raw !== 'number' || !Number.isFinite(raw) || raw < 1 || raw > 10) throw new ApiError(400, 'invalid_k', '`params.k` must be a number from 1 to 10 (σ above the expected count)');
    return raw;
  },
});

const minBaselineDays = value<number>({
  codes: () => ['invalid_min_baseline_days'],
  required: false,
  description: 'no alert until this much history exists; at most `baseline_days`, default 7 or `baseline_days` if fewer',
  schema: () => ({ type: 'integer', minimum: 1, maximum: 90 }),
  parse(raw, _name, _known, earlier) {
    const baselineDays = earlier!.baseline_days as number;
    return integerField('min_baseline_days', raw, Math.min(7, baselineDays), 1, baselineDays);
  },
});

const SPIKE_PARAMS = {
  window_minutes: windowMinutes,
  baseline_days: integer({ min: 1, max: 90, default: 14, description: 'the days of history the window is compared with' }),
  k,
  min_baseline_days: minBaselineDays,
};

/** Each kind's parameters, checked in this order, each seeing those before it. */
const PARAMS: Record<AlertKind, { fields: Record<string, Value<unknown>>; example: string }> = {
  new_post: {
    fields: { keywords, sentiments, max_rating: maxRating },
    example: '{"keywords":["outage"],"sentiments":["negative"],"max_rating":2}',
  },
  volume_spike: {
    fields: { ...SPIKE_PARAMS, min_count: integer({ min: 1, max: 1_000_000, default: 3, description: 'fewer posts in the window are never a spike' }) },
    example: '{"window_minutes":60,"baseline_days":14,"k":3,"min_count":3}',
  },
  negative_share_spike: {
    fields: { ...SPIKE_PARAMS, min_volume: integer({ min: 1, max: 1_000_000, default: 10, description: 'a window with fewer posts is not judged' }) },
    example: '{"window_minutes":60,"baseline_days":14,"k":3,"min_volume":10}',
  },
};

/** The kind's parameters in the model's terms; the other kinds' counters are 0. */
function paramsOf(ruleKind: AlertKind, p: Record<string, unknown>): AlertParams {
  if (ruleKind === 'new_post') return { keywords: p.keywords as string[], sentiments: p.sentiments as (typeof SENTIMENT_LABELS)[number][], maxRating: p.max_rating as number | null };
  return {
    windowMinutes: p.window_minutes as number,
    baselineDays: p.baseline_days as number,
    k: p.k as number,
    minBaselineDays: p.min_baseline_days as number,
    minCount: ruleKind === 'volume_spike' ? (p.min_count as number) : 0,
    minVolume: ruleKind === 'negative_share_spike' ? (p.min_volume as number) : 0,
  };
}

const params = value<AlertParams>({
  codes: () => ['invalid_params', 'unknown_param', ...new Set(Object.values(PARAMS).flatMap(({ fields }) => Object.entries(fields).flatMap(([n, field]) => field.codes(n))))],
  required: false,
  description: "the kind's parameters; each left out takes its default",
  schema: (known) => ({
    anyOf: [
      ...Object.entries(PARAMS).map(([ruleKind, { fields }]) => ({
        type: 'object',
        title: ruleKind,
        additionalProperties: false,
        properties: Object.fromEntries(Object.entries(fields).map(([n, field]) => [n, { description: field.description, ...field.schema(known) }])),
      })),
      { type: 'null' },
    ],
  }),
  parse(raw, _name, known, earlier) {
    const ruleKind = earlier!.kind as AlertKind;
    const { fields, example } = PARAMS[ruleKind];
    const allowed = Object.keys(fields);
    const given = raw === undefined || raw === null ? {} : raw;
    if (!isObject(given)) throw new ApiError(400, 'invalid_params', `\`params\` must be an object like ${example}`);
    const unknown = Object.keys(given).filter((key) => !allowed.includes(key));
    if (unknown.length > 0) throw new ApiError(400, 'unknown_param', `unknown parameter ${unknown.map((key) => `\`${key}\``).join(', ')} for this kind; expected ${allowed.join(', ')}`);
    const parsed: Record<string, unknown> = {};
    for (const n of allowed) parsed[n] = fields[n]!.parse(given[n], n, known, parsed);
    return paramsOf(ruleKind, parsed);
  },
});

const coolDownMinutes = value<number>({
  codes: () => ['invalid_cool_down_minutes'],
  required: false,
  description: `once fired, the rule stays quiet this long; default 0 for new_post, ${DEFAULT_COOL_DOWN_MINUTES} for the spike kinds`,
  schema: () => ({ type: 'integer', minimum: 0, maximum: MAX_COOL_DOWN_MINUTES }),
  parse: (raw, _name, _known, earlier) =>
    integerField('cool_down_minutes', raw, earlier!.kind === 'new_post' ? 0 : DEFAULT_COOL_DOWN_MINUTES, 0, MAX_COOL_DOWN_MINUTES),
});

const DESTINATION_FIELDS = ['id', 'type', 'url', 'secret', 'to'];

const destinationSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    id: { type: 'string', description: "one of the rule's destinations, which keeps what is left out (its secret among them)" },
    type: { type: 'string', enum: [...DESTINATION_TYPES] },
    url: { type: 'string', maxLength: MAX_URL_LENGTH, description: 'webhook and slack: an http(s) URL on a public network, or one WEBHOOK_ALLOW_NETWORKS allows' },
    secret: { type: 'string', minLength: SECRET_CHARS.min, maxLength: SECRET_CHARS.max, description: 'webhook: the key that signs every delivery' },
    to: { type: 'array', minItems: 1, maxItems: MAX_RECIPIENTS, items: { type: 'string', maxLength: 254 }, description: 'email: plain addresses' },
  },
};

const destinations = value<Destination[] | undefined>({
  codes: () => [
    'invalid_destinations',
    'unknown_field',
    'unknown_destination',
    'invalid_destination_type',
    'invalid_destination_url',
    'destination_not_allowed',
    'invalid_destination_secret',
    'invalid_destination_to',
    'email_not_configured',
  ],
  required: true,
  description: `1 to ${MAX_DESTINATIONS} places each event is sent to`,
  schema: () => ({ type: 'array', minItems: 1, maxItems: MAX_DESTINATIONS, items: destinationSchema }),
  parse(raw, _name, known) {
    if (raw === undefined) return undefined;
    const context = known.destinations ?? { allowNetworks: [], emailConfigured: false, existing: [] };
    if (!Array.isArray(raw) || raw.length === 0 || raw.length > MAX_DESTINATIONS) {
      throw new ApiError(400, 'invalid_destinations', `\`destinations\` must be an array of 1 to ${MAX_DESTINATIONS} destinations like {"type":"webhook","url":"https://…","secret":"…"}, {"type":"slack","url":"https://hooks.slack.com/…"} or {"type":"email","to":["ops@example.com"]}`);
    }
    return raw.map((entry: unknown, index) => {
      const where = `destinations[${index}]`;
      if (!isObject(entry)) throw new ApiError(400, 'invalid_destinations', `\`${where}\` must be an object`);
      const unknown = Object.keys(entry).filter((key) => !DESTINATION_FIELDS.includes(key));
      if (unknown.length > 0) throw new ApiError(400, 'unknown_field', `unknown field ${unknown.map((key) => `\`${where}.${key}\``).join(', ')}; expected ${DESTINATION_FIELDS.join(', ')}`);
      // A destination named by its id keeps the url and secret it is not given: secrets are never shown to copy back.
      const kept = entry.id === undefined ? undefined : context.existing.find((d) => d.id === entry.id);
      if (entry.id !== undefined && !kept) throw new ApiError(400, 'unknown_destination', `\`${where}.id\` names no destination of this rule`);
      const type = entry.type ?? kept?.type;
      if (!(DESTINATION_TYPES as readonly unknown[]).includes(type)) throw new ApiError(400, 'invalid_destination_type', `\`${where}.type\` must be one of ${DESTINATION_TYPES.join(', ')}`);
      if (type === 'email') return emailDestination(entry, kept, where, context.emailConfigured);
      if (entry.to !== undefined) throw new ApiError(400, 'invalid_destination_to', `\`${where}.to\` is for email destinations`);
      const url = entry.url ?? (kept?.type === 'email' ? undefined : kept?.url);
      if (typeof url !== 'string' || url.length > MAX_URL_LENGTH) throw new ApiError(400, 'invalid_destination_url', `\`${where}.url\` must be an http(s) URL of at most ${MAX_URL_LENGTH} characters`);
      const problem = webhookUrlProblem(url, context.allowNetworks);
      if (problem) throw new ApiError(400, problem.includes('may not reach') ? 'destination_not_allowed' : 'invalid_destination_url', `\`${where}.url\` ${problem}`);
      let secret: string | null = null;
      if (type === 'webhook') {
        secret = (entry.secret ?? (kept?.type === 'webhook' ? kept.secret : undefined)) as string | null;
        if (typeof secret !== 'string' || secret.length < SECRET_CHARS.min || secret.length > SECRET_CHARS.max || textProblem(secret) !== null) {
          throw new ApiError(400, 'invalid_destination_secret', `\`${where}.secret\` must be ${SECRET_CHARS.min} to ${SECRET_CHARS.max} characters (e.g. \`openssl rand -hex 32\`): it signs every delivery`);
        }
      } else if (entry.secret !== undefined) {
        throw new ApiError(400, 'invalid_destination_secret', `\`${where}.secret\` is for webhook destinations; a Slack-compatible webhook's URL is its secret`);
      }
      return { id: kept?.id ?? randomBytes(6).toString('hex'), type: type as Destination['type'], url, secret };
    });
  },
});

function emailDestination(entry: Record<string, unknown>, kept: Destination | undefined, where: string, emailConfigured: boolean): Destination {
  if (!emailConfigured) throw new ApiError(400, 'email_not_configured', `\`${where}\` is an email destination, but this server has no SMTP_URL (and SMTP_FROM) to send it through`);
  if (entry.url !== undefined || entry.secret !== undefined) throw new ApiError(400, 'invalid_destination_to', `\`${where}\` is an email destination: give \`to\`, not \`url\` or \`secret\``);
  const to = entry.to ?? kept?.to;
  if (!Array.isArray(to) || to.length === 0 || to.length > MAX_RECIPIENTS || !to.every(isMailAddress)) {
    throw new ApiError(400, 'invalid_destination_to', `\`${where}.to\` must be 1 to ${MAX_RECIPIENTS} plain addresses such as "ops@example.com"`);
  }
  return { id: kept?.id ?? randomBytes(6).toString('hex'), type: 'email', url: '', secret: null, to: [...new Set(to as string[])] };
}

/** A rule's fields, in the order they are checked: `params` and `cool_down_minutes` read the `kind` before them. */
export const RULE_FIELDS = {
  name,
  kind,
  query,
  sources,
  params,
  cool_down_minutes: coolDownMinutes,
  destinations,
  enabled: boolean({ default: true, description: 'a disabled rule is kept but never judged' }),
};
