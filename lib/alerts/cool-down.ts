// One event per rule per cool-down: once a rule has fired, it stays quiet for this long, so an incident lasting a
// few hours is one event and not one per window, and a second window over the threshold right after the first is
// not news.

/** Six hours: an outage or a bad release of a few hours is one event, and the same day's next one is still told. */
export const DEFAULT_COOL_DOWN_MINUTES = 360;

/** Whether a rule that last fired at `lastEventAt` (ms, null: never) may fire again at `now`. */
export function mayFireAgain(lastEventAt: number | null, now: number, coolDownMinutes: number = DEFAULT_COOL_DOWN_MINUTES): boolean {
  return lastEventAt === null || now >= lastEventAt + coolDownMinutes * 60_000;
}
