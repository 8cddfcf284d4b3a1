// The alert tables (sql/0008_alerts.sql): rules, the events they fire, and the counts the spike rules judge, read
// from the hourly rollup (post_stats_hourly) so an evaluation never scans the posts of the baseline.
import type postgres from 'postgres';
import type { AlertEvent, AlertKind, AlertParams, AlertPost, AlertRule, Destination } from '../model/alert.ts';
import type { SentimentLabel } from '../model/post.ts';
import type { Sql } from './client.ts';

/** What a rule is made of, as written: the stored rule without what the database keeps of it. */
export type RuleFields = Omit<AlertRule, 'id' | 'createdAt' | 'updatedAt' | 'lastEventAt' | 'checkedWindow'>;

interface RuleRow {
  id: string;
  name: string;
  query: string | null;
  sources: string[] | null;
  kind: AlertKind;
  params: AlertParams;
  cool_down_minutes: number;
  destinations: Destination[];
  enabled: boolean;
  created_at: Date;
  updated_at: Date;
  last_event_at: Date | null;
  checked_window: Date | null;
}

const RULE_COLUMNS = 'id::text as id, name, query, sources, kind, params, cool_down_minutes, destinations, enabled, created_at, updated_at, last_event_at, checked_window';

const toRule = (row: RuleRow): AlertRule => ({
  id: row.id,
  name: row.name,
  query: row.query,
  sources: row.sources,
  kind: row.kind,
  params: row.params,
  coolDownMinutes: row.cool_down_minutes,
  destinations: row.destinations,
  enabled: row.enabled,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  lastEventAt: row.last_event_at,
  checkedWindow: row.checked_window,
});

const json = (sql: Sql, value: unknown) => sql.json(value as postgres.JSONValue);

export async function insertRule(sql: Sql, rule: RuleFields): Promise<AlertRule> {
  const [row] = await sql<RuleRow[]>`
    insert into alert_rules (name, query, sources, kind, params, cool_down_minutes, destinations, enabled)
    values (${rule.name}, ${rule.query}, ${rule.sources}, ${rule.kind}, ${json(sql, rule.params)}, ${rule.coolDownMinutes}, ${json(sql, rule.destinations)}, ${rule.enabled})
    returning ${sql.unsafe(RULE_COLUMNS)}
  `;
  return toRule(row!);
}

/** Replaces the rule's fields; a changed scope, kind or parameters starts its scheduled judging afresh. */
export async function updateRule(sql: Sql, id: string, rule: RuleFields): Promise<AlertRule | null> {
  const [row] = await sql<RuleRow[]>`
    update alert_rules set
      name = ${rule.name}, query = ${rule.query}, sources = ${rule.sources}, kind = ${rule.kind}, params = ${json(sql, rule.params)},
      cool_down_minutes = ${rule.coolDownMinutes}, destinations = ${json(sql, rule.destinations)}, enabled = ${rule.enabled},
      updated_at = now()
    where id = ${id}::bigint
    returning ${sql.unsafe(RULE_COLUMNS)}
  `;
  return row ? toRule(row) : null;
}

export async function getRule(sql: Sql, id: string): Promise<AlertRule | null> {
  const [row] = await sql<RuleRow[]>`select ${sql.unsafe(RULE_COLUMNS)} from alert_rules where id = ${id}::bigint`;
  return row ? toRule(row) : null;
}

export async function listRules(sql: Sql): Promise<AlertRule[]> {
  return (await sql<RuleRow[]>`select ${sql.unsafe(RULE_COLUMNS)} from alert_rules order by id`).map(toRule);
}

export async function deleteRule(sql: Sql, id: string): Promise<boolean> {
  const rows = await sql`delete from alert_rules where id = ${id}::bigint returning id`;
  return rows.length > 0;
}

/** Enabled rules of these kinds whose scope holds posts of (source, query); every enabled one of them without a scope. */
export async function rulesInScope(sql: Sql, kinds: AlertKind[], scope?: { source: string; query: string }): Promise<AlertRule[]> {
  const rows = await sql<RuleRow[]>`
    select ${sql.unsafe(RULE_COLUMNS)} from alert_rules
    where enabled and kind = any(${kinds}::text[])
      ${scope ? sql`and (query is null or query = ${scope.query}) and (sources is null or ${scope.source} = any(sources))` : sql``}
    order by id
  `;
  return rows.map(toRule);
}

/** Remembers that the scheduled check judged the window starting at `windowStart` as complete. */
export async function markWindowChecked(sql: Sql, ruleId: string, windowStart: Date): Promise<void> {
  await sql`update alert_rules set checked_window = greatest(checked_window, ${windowStart}) where id = ${ruleId}::bigint`;
}

interface EventRow {
  id: string;
  rule_id: string | null;
  rule_name: string;
  kind: AlertKind;
  fired_at: Date;
  window_start: Date | null;
  evidence: Record<string, unknown>;
  post_ids: string[];
  test: boolean;
}

const EVENT_COLUMNS = 'e.id::text as id, e.rule_id::text as rule_id, e.rule_name, e.kind, e.fired_at, e.window_start, e.evidence, e.post_ids::text[] as post_ids, e.test';

const toEvent = (row: EventRow): AlertEvent => ({
  id: row.id,
  ruleId: row.rule_id,
  ruleName: row.rule_name,
  kind: row.kind,
  firedAt: row.fired_at,
  windowStart: row.window_start,
  evidence: row.evidence,
  postIds: row.post_ids,
  test: row.test,
});

export interface NewEvent {
  ruleId: string;
  windowStart: Date | null;
  evidence: Record<string, unknown>;
  postIds: string[];
}

/**
 * Records the event unless the rule fired within its cool-down, in one statement: the UPDATE takes the rule's row
 * lock, and a second worker's UPDATE, waiting on it, re-checks last_event_at once the first commits and matches
 * nothing. Null when the rule is in its cool-down (or was disabled or deleted meanwhile).
 */
export async function recordEvent(sql: Sql, event: NewEvent): Promise<AlertEvent | null> {
  const [row] = await sql<EventRow[]>`
    with fired as (
      update alert_rules set last_event_at = clock_timestamp()
      where id = ${event.ruleId}::bigint and enabled
        and (last_event_at is null or last_event_at <= clock_timestamp() - make_interval(mins => cool_down_minutes))
        -- A spike window is told once, however short the cool-down.
        and (${event.windowStart}::timestamptz is null or last_event_at is null or last_event_at < ${event.windowStart}::timestamptz)
      returning id, name, kind, last_event_at
    ), e as (
      insert into alert_events (rule_id, rule_name, kind, fired_at, window_start, evidence, post_ids)
      select id, name, kind, last_event_at, ${event.windowStart}, ${json(sql, event.evidence)}, ${event.postIds}::bigint[] from fired
      returning *
    )
    select ${sql.unsafe(EVENT_COLUMNS)} from e
  `;
  return row ? toEvent(row) : null;
}

/** A sample event for POST /alerts/{id}/test: outside the cool-down, marked as a test. */
export async function recordTestEvent(sql: Sql, rule: AlertRule, evidence: Record<string, unknown>, postIds: string[]): Promise<AlertEvent> {
  const [row] = await sql<EventRow[]>`
    with e as (
      insert into alert_events (rule_id, rule_name, kind, evidence, post_ids, test)
      values (${rule.id}::bigint, ${rule.name}, ${rule.kind}, ${json(sql, evidence)}, ${postIds}::bigint[], true)
      returning *
    )
    select ${sql.unsafe(EVENT_COLUMNS)} from e
  `;
  return toEvent(row!);
}

/** Its deliveries are on the queue. */
export async function markDeliveriesQueued(sql: Sql, eventId: string): Promise<void> {
  await sql`update alert_events set deliveries_queued_at = clock_timestamp() where id = ${eventId}::bigint`;
}

/**
 * Events whose deliveries were never enqueued, fired at least `graceMs` ago (so not one whose firing is still
 * enqueueing them), with their rules, oldest first; events of a deleted rule have nowhere to go and are left out.
 */
export async function eventsAwaitingDelivery(sql: Sql, graceMs: number, limit: number): Promise<{ event: AlertEvent; rule: AlertRule }[]> {
  const rows = await sql<EventRow[]>`
    select ${sql.unsafe(EVENT_COLUMNS)} from alert_events e
    where e.deliveries_queued_at is null and e.rule_id is not null and not e.test and e.fired_at < clock_timestamp() - make_interval(secs => ${graceMs / 1000})
    order by e.fired_at, e.id
    limit ${limit}
  `;
  const found = [];
  for (const row of rows) {
    const rule = await getRule(sql, row.rule_id!);
    if (rule) found.push({ event: toEvent(row), rule });
  }
  return found;
}

export async function getEvent(sql: Sql, id: string): Promise<AlertEvent | null> {
  const [row] = await sql<EventRow[]>`select ${sql.unsafe(EVENT_COLUMNS)} from alert_events e where e.id = ${id}::bigint`;
  return row ? toEvent(row) : null;
}

export interface EventCursor {
  /** fired_at as stored, to the microsecond (ISO 8601, UTC). */
  firedAt: string;
  id: string;
}

/** Newest first, keyset-paginated on (fired_at, id) like GET /posts. */
export async function listEvents(sql: Sql, query: { limit: number; before?: EventCursor; ruleId?: string }): Promise<(AlertEvent & { cursor: EventCursor })[]> {
  const rows = await sql<(EventRow & { cursor_at: string })[]>`
    select ${sql.unsafe(EVENT_COLUMNS)},
           to_char(e.fired_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as cursor_at
    from alert_events e
    where true
      ${query.ruleId ? sql`and e.rule_id = ${query.ruleId}::bigint` : sql``}
      ${query.before ? sql`and (e.fired_at, e.id) < (${query.before.firedAt}::text::timestamptz, ${query.before.id}::bigint)` : sql``}
    order by e.fired_at desc, e.id desc
    limit ${query.limit}
  `;
  return rows.map(({ cursor_at, ...row }) => ({ ...toEvent(row), cursor: { firedAt: cursor_at, id: row.id } }));
}

/** Events fired so far per rule name, tests left out: vibe_alert_events_total. */
export async function eventCountsByRule(sql: Sql): Promise<{ rule: string; events: number }[]> {
  return sql<{ rule: string; events: number }[]>`
    select rule_name as rule, count(*)::int as events from alert_events where not test group by rule_name order by rule_name
  `;
}

interface AlertPostRow {
  id: string;
  source: string;
  query: string;
  url: string;
  author: string | null;
  title: string | null;
  body: string;
  rating: number | null;
  sentiment_label: SentimentLabel | null;
  published_at: Date;
}

const toAlertPost = (row: AlertPostRow): AlertPost => ({
  id: row.id,
  source: row.source,
  query: row.query,
  url: row.url || null,
  author: row.author,
  title: row.title,
  text: row.body,
  rating: row.rating,
  sentiment: row.sentiment_label,
  publishedAt: row.published_at,
});

/** These posts (newest first), for matching new_post rules and for telling of an event. */
export async function alertPosts(sql: Sql, ids: string[]): Promise<AlertPost[]> {
  if (ids.length === 0) return [];
  const rows = await sql<AlertPostRow[]>`
    select id::text as id, source, query, url, author, title, body, rating, sentiment_label, published_at
    from posts where id = any(${ids}::bigint[]) order by published_at desc, id desc
  `;
  return rows.map(toAlertPost);
}

export interface AlertScope {
  query: string | null;
  sources: string[] | null;
}

function scopeConditions(sql: Sql, scope: AlertScope, alias: string) {
  const column = (name: string) => sql.unsafe(`${alias}.${name}`);
  return sql`
    ${scope.query !== null ? sql`and ${column('query')} = ${scope.query}` : sql``}
    ${scope.sources !== null ? sql`and ${column('source')} = any(${scope.sources}::text[])` : sql``}
  `;
}

export interface WindowRow {
  start: Date;
  count: number;
  negative: number;
}

/**
 * Posts and negative posts per window of `windowMinutes` (a whole number of hours) from `from` up to `to`, from the
 * hourly rollup; windows without posts are left out. The grid starts at the epoch, a UTC midnight, as the detectors
 * expect.
 */
export async function windowCounts(sql: Sql, scope: AlertScope, windowMinutes: number, from: Date, to: Date): Promise<WindowRow[]> {
  const seconds = windowMinutes * 60;
  return sql<WindowRow[]>`
    select to_timestamp(floor(extract(epoch from s.hour) / ${seconds}) * ${seconds}) as start,
           sum(s.posts)::int as count,
           coalesce(sum(s.posts) filter (where s.label = 'negative'), 0)::int as negative
    from post_stats_hourly s
    where s.hour >= ${from} and s.hour < ${to} ${scopeConditions(sql, scope, 's')}
    group by 1
    having sum(s.posts) <> 0
  `;
}

/** The hour of the scope's oldest stored post: counts are taken as complete from there on. Null without posts. */
export async function scopeFirstHour(sql: Sql, scope: AlertScope): Promise<Date | null> {
  const [row] = await sql<{ first: Date | null }[]>`
    select min(s.hour) as first from post_stats_hourly s where s.posts > 0 ${scopeConditions(sql, scope, 's')}
  `;
  return row?.first ?? null;
}

/** Ids of the scope's posts published in [from, to), newest first, at most `limit` (negative ones only if asked). */
export async function windowPostIds(sql: Sql, scope: AlertScope, from: Date, to: Date, limit: number, negativeOnly = false): Promise<string[]> {
  const rows = await sql<{ id: string }[]>`
    select p.id::text as id from posts p
    where p.published_at >= ${from} and p.published_at < ${to} ${scopeConditions(sql, scope, 'p')}
      ${negativeOnly ? sql`and p.sentiment_label = 'negative'` : sql``}
    order by p.published_at desc, p.id desc
    limit ${limit}
  `;
  return rows.map((row) => row.id);
}
