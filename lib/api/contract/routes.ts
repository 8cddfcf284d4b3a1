import { ALERT_ROUTES } from './alerts.ts';
import { JOB_ROUTES } from './jobs.ts';
import { OTHER_ROUTES } from './others.ts';
import { POST_ROUTES } from './posts.ts';
import type { Route } from './route.ts';

/** Every route the API serves; a test holds the app's router to this list and this list to the app. */
export const ROUTES: readonly Route[] = [...OTHER_ROUTES, ...JOB_ROUTES, ...POST_ROUTES, ...ALERT_ROUTES];

/** The paths anyone may read, whatever the tokens: they reveal no data. */
export const OPEN_PATHS: ReadonlySet<string> = new Set(ROUTES.filter((r) => r.role === 'open').map((r) => r.path));

/**
 * The paths served beside the JSON API that are no part of it: the dashboard's HTML pages under /ui, its files under
 * /assets and the redirect to it at /. They sign their users in themselves and are not in the document.
 */
export const NON_API_PATHS = { exact: ['/', '/ui'], prefixes: ['/ui/', '/assets/'] } as const;

export function isNonApiPath(path: string): boolean {
  return (NON_API_PATHS.exact as readonly string[]).includes(path) || NON_API_PATHS.prefixes.some((prefix) => path.startsWith(prefix));
}
