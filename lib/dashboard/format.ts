// How the pages write times, numbers and links. Everything from an upstream reaches the page through JSX, which
// escapes text and attributes; links are the one place escaping is not enough, as a javascript: URL needs none.
import { publicUrl } from '../http/public-url.ts';

/** An http(s) URL without credentials, or null for anything else (javascript:, data:, relative, unparseable). */
export const safeHref = publicUrl;

/** "2026-05-01 14:03 UTC": the dashboard shows UTC, as the API does, so a time reads the same for everyone. */
export function utc(time: Date | number | null | undefined): string {
  if (time === null || time === undefined) return '—';
  const date = new Date(time);
  if (Number.isNaN(date.getTime())) return '—';
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

export function isoTime(time: Date | number): string {
  return new Date(time).toISOString();
}

const NUMBER = new Intl.NumberFormat('en', { maximumFractionDigits: 1 });

export function count(value: number): string {
  return NUMBER.format(value);
}

export function percent(part: number, whole: number): string {
  return whole === 0 ? '—' : `${Math.round((part / whole) * 100)} %`;
}

/** At most `max` characters, cut at a word where one is near. */
export function excerpt(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max);
  const space = cut.lastIndexOf(' ');
  return `${(space > max * 0.7 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

/** The query string of `params` without empty values, with a leading "?" when there is one. */
export function queryString(params: Record<string, string | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== null && value !== '') search.set(key, value);
  const text = search.toString();
  return text ? `?${text}` : '';
}
