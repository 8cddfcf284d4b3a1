// Pages that are not the content asked for: a login or consent wall, a bot challenge, or a layout the parser no
// longer knows. Each becomes a permanent failure that says what was received and what to do about it.
import { type JobError, permanent } from '../errors.ts';

export interface Site {
  /** As people call it, for messages: "Trustpilot". */
  name: string;
  /** The file to update when the layout changes. */
  source: string;
}

const LOGIN_PATH = /\/(?:login|log-in|signin|sign-in|users\/connect|authenticate|consent)(?:\/|$)/i;
const LOGIN_HOST = /^(?:auth|login|accounts?|consent)\./i;

/** The HTTP client follows redirects, so a login or consent wall shows up as the final URL. */
export function rejectLoginUrl(site: Site, pageUrl: string, expected: string): void {
  const url = new URL(pageUrl);
  if (LOGIN_PATH.test(url.pathname) || LOGIN_HOST.test(url.hostname)) {
    throw permanent(
      'upstream_login_required',
      `${site.name} redirected to a login or consent page (${url.host}${url.pathname}) instead of the ${expected}: this page is not public to this worker; check the query, and whether ${site.name} now requires an account from this IP address`,
    );
  }
}

const CHALLENGES: [RegExp, string][] = [
  [/<title>\s*Just a moment/i, 'a Cloudflare "Just a moment" bot challenge'],
  [/Attention Required! \| Cloudflare|cf-chl|challenge-platform/i, 'a Cloudflare bot challenge'],
  [/px-captcha|perimeterx|_pxAppId/i, 'a PerimeterX captcha'],
  [/captcha/i, 'a captcha'],
  [/<title>\s*Access denied/i, 'an "Access denied" page'],
];

/**
 * Classifies a page that carried none of the expected content (`lacking` says what was missing). Call it only then, so a post that quotes
 * "Access denied" is never mistaken for a block.
 */
export function rejectUnreadablePage(site: Site, html: string, pageUrl: string, expected: string, lacking: string): never {
  const url = new URL(pageUrl);
  const challenge = CHALLENGES.find(([pattern]) => pattern.test(html))?.[1];
  if (challenge) {
    throw permanent(
      'upstream_blocked',
      `${site.name} answered ${url.host}${url.pathname} with ${challenge} instead of the ${expected}: this worker is being treated as a bot; lower the scrape rate or run the worker from another IP address`,
    );
  }
  if (/<input[^>]+type=["']?password/i.test(html)) {
    throw permanent(
      'upstream_login_required',
      `${site.name} answered ${url.host}${url.pathname} with a login form instead of the ${expected}: this page is not public to this worker; check whether ${site.name} now requires an account`,
    );
  }
  throw formatChanged(site, pageUrl, `the ${expected} has ${lacking}`);
}

export function formatChanged(site: Site, pageUrl: string, what: string): JobError {
  const url = new URL(pageUrl);
  return permanent(
    'upstream_bad_response',
    `${site.name}'s page ${url.host}${url.pathname} could not be read (${what}): the page layout probably changed; update ${site.source}`,
  );
}
