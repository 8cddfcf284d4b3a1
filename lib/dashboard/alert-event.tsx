// Alert events as the Alerts page and the overview list them. The rule's name and the evidence are text a user or
// an upstream wrote: JSX escapes them.
import { presentEvent } from '../api/alerts.ts';
import type { AlertEvent } from '../model/alert.ts';
import { count, excerpt, isoTime, utc } from './format.ts';

export function AlertEventList({ events }: { events: AlertEvent[] }) {
  return (
    <ul class="events">
      {events.map((event) => {
        const shown = presentEvent(event);
        return (
          <li data-event-id={event.id}>
            <time datetime={isoTime(event.firedAt)}>{utc(event.firedAt)}</time>
            {' · '}
            <strong class="rule-name">{event.ruleName}</strong>
            {' · '}
            <span class="badge">{event.kind}</span>
            {event.test ? <>{' '}<span class="badge pending">test</span></> : null}
            {event.ruleId === null ? <span class="muted"> (rule deleted)</span> : null}
            <div class="muted">{`${count(shown.post_ids.length)} ${shown.post_ids.length === 1 ? 'post' : 'posts'} · ${evidenceSummary(shown.evidence)}`}</div>
          </li>
        );
      })}
    </ul>
  );
}

/** The evidence's plain values ("count: 12, threshold: 7.4"), short: the full record is GET /alerts/events's. */
function evidenceSummary(evidence: Record<string, unknown>): string {
  const plain = Object.entries(evidence).filter(([, value]) => ['string', 'number', 'boolean'].includes(typeof value));
  const text = plain.map(([key, value]) => `${key}: ${typeof value === 'number' ? count(value) : String(value)}`).join(', ');
  return excerpt(text || 'no figures', 200);
}
