// A page of alert events, newest first, and the opaque cursor that asks for the next one: GET /alerts/events and
// the dashboard's Alerts page read the same pages.
import { type EventCursor, listEvents } from '../db/alerts.ts';
import { ApiError } from '../errors.ts';
import type { AlertEvent } from '../model/alert.ts';
import { ALERT_ID } from './alert-actions.ts';
import type { ApiDeps } from './deps.ts';

const CURSOR_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?Z$/;

export async function alertEventsPage(deps: Pick<ApiDeps, 'sql'>, query: { limit: number; before?: EventCursor; ruleId?: string }): Promise<{ events: AlertEvent[]; next: string | null }> {
  const rows = await listEvents(deps.sql, { ...query, limit: query.limit + 1 });
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return { events: page, next: rows.length > query.limit && last ? encodeEventCursor(last.cursor) : null };
}

function encodeEventCursor(cursor: EventCursor): string {
  return Buffer.from(JSON.stringify([cursor.firedAt, cursor.id])).toString('base64url');
}

export function decodeEventCursor(value: string | undefined): EventCursor | undefined {
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
  if (typeof firedAt !== 'string' || !CURSOR_TIME.test(firedAt) || Number.isNaN(Date.parse(firedAt)) || typeof id !== 'string' || !ALERT_ID.test(id)) throw invalid();
  return { firedAt, id };
}
