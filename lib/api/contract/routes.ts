import { JOB_ROUTES } from './jobs.ts';
import { OTHER_ROUTES } from './others.ts';
import { POST_ROUTES } from './posts.ts';
import type { Route } from './route.ts';

/** Every route the API serves; a test holds the app's router to this list and this list to the app. */
export const ROUTES: readonly Route[] = [...OTHER_ROUTES, ...JOB_ROUTES, ...POST_ROUTES];

/** The paths anyone may read, whatever the tokens: they reveal no data. */
export const OPEN_PATHS: ReadonlySet<string> = new Set(ROUTES.filter((r) => r.role === 'open').map((r) => r.path));
