// Alert rules and the events they fired: the rules with test, enable or disable and delete, a form for a new rule,
// and the newest events by keyset. Everything goes through the functions the /alerts routes use: their checks,
// their storage, their view of destinations (secrets never shown, URLs masked).
import { type Context, Hono } from 'hono';
import { alertRequestContext, findAlertRule, sendTestEvent } from '../../api/alert-actions.ts';
import { alertEventsPage, decodeEventCursor } from '../../api/alert-events.ts';
import { WINDOW_MINUTES, parseNewRule, parseRulePatch } from '../../api/alert-params.ts';
import { presentRule } from '../../api/alerts.ts';
import type { ApiDeps } from '../../api/deps.ts';
import { deleteRule, insertRule, listRules, updateRule } from '../../db/alerts.ts';
import { listTrackedQueries } from '../../db/tracked-queries.ts';
import { ApiError } from '../../errors.ts';
import { ALERT_KINDS, type AlertRule } from '../../model/alert.ts';
import { SENTIMENT_LABELS } from '../../model/post.ts';
import { AlertEventList } from '../alert-event.tsx';
import { ruleRequestOfForm } from '../alert-form.ts';
import { count, queryString, utc } from '../format.ts';
import { ActionButton, Csrf, Empty, Layout, notice, render } from '../layout.tsx';
import { type DashboardEnv, type Viewer, requireAdmin } from '../viewer.ts';

const EVENTS_PER_PAGE = 25;

export function alertsRoutes(deps: ApiDeps) {
  const context = alertRequestContext(deps);

  const page = async (c: Context<DashboardEnv>, error: string | null = null, status: 200 | 400 = 200) => {
    const before = decodeEventCursor(c.req.query('before'));
    const [rules, { events, next }, tracked] = await Promise.all([
      listRules(deps.sql),
      alertEventsPage(deps, { limit: EVENTS_PER_PAGE, before }),
      listTrackedQueries(deps.sql),
    ]);
    const viewer = c.get('viewer');
    return render(
      c,
      <Layout title="Alerts" path="/ui/alerts" viewer={viewer} notice={notice(c)} error={error}>
        {rules.length === 0 ? <Empty>No alert rule yet.</Empty> : (
          <table class="list">
            <caption>{`${count(rules.length)} alert ${rules.length === 1 ? 'rule' : 'rules'}`}</caption>
            <thead>
              <tr>
                <th scope="col">Name</th><th scope="col">Kind</th><th scope="col">Scope</th><th scope="col">Parameters</th>
                <th scope="col">Cool-down</th><th scope="col">Destinations</th><th scope="col">Last event</th><th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>{rules.map((rule) => <RuleRow rule={rule} viewer={viewer} />)}</tbody>
          </table>
        )}
        {viewer.role === 'admin' && viewer.csrf ? <CreateForm viewer={viewer} sources={deps.sources.names()} queries={tracked.map((t) => t.query)} /> : null}
        <section aria-labelledby="events-h">
          <h2 id="events-h">Events, newest first</h2>
          {events.length === 0 ? <Empty>{before ? 'No older events.' : 'No alert has fired yet.'}</Empty> : <AlertEventList events={events} />}
          <nav class="pager" aria-label="Event pages">
            {before ? <a href="/ui/alerts">Newest</a> : null}
            {next ? <a href={`/ui/alerts${queryString({ before: next })}`} rel="next">Older events</a> : null}
          </nav>
        </section>
      </Layout>,
      status,
    );
  };

  const setEnabled = async (id: string, enabled: boolean) => {
    const current = await findAlertRule(deps, id);
    const updated = await updateRule(deps.sql, current.id, parseRulePatch({ enabled }, current, context));
    if (!updated) throw new ApiError(404, 'alert_not_found', `no alert rule with id "${current.id}"`);
  };

  return new Hono<DashboardEnv>()
    .get('/', (c) => page(c))
    .post('/', requireAdmin, async (c) => {
      try {
        await insertRule(deps.sql, parseNewRule(ruleRequestOfForm(c.get('form')), context));
        return c.redirect('/ui/alerts?notice=alert_created', 303);
      } catch (error) {
        if (error instanceof ApiError && error.status === 400) return page(c, error.message, 400);
        throw error;
      }
    })
    .post('/:id/test', requireAdmin, async (c) => {
      const { jobs } = await sendTestEvent(deps, await findAlertRule(deps, c.req.param('id')));
      return c.redirect(`/ui/queue/jobs/${jobs[0]!.id}?notice=alert_test_queued`, 303);
    })
    .post('/:id/enable', requireAdmin, async (c) => {
      await setEnabled(c.req.param('id'), true);
      return c.redirect('/ui/alerts?notice=alert_enabled', 303);
    })
    .post('/:id/disable', requireAdmin, async (c) => {
      await setEnabled(c.req.param('id'), false);
      return c.redirect('/ui/alerts?notice=alert_disabled', 303);
    })
    .post('/:id/delete', requireAdmin, async (c) => {
      const rule = await findAlertRule(deps, c.req.param('id'));
      await deleteRule(deps.sql, rule.id);
      return c.redirect('/ui/alerts?notice=alert_deleted', 303);
    });
}

function RuleRow({ rule, viewer }: { rule: AlertRule; viewer: Viewer }) {
  const shown = presentRule(rule);
  const nameId = `rule-${rule.id}`;
  return (
    <tr data-rule-id={rule.id}>
      <th scope="row" id={nameId}>
        {rule.name}
        <div class="muted">{rule.enabled ? 'enabled' : 'disabled'}</div>
      </th>
      <td>{rule.kind}</td>
      <td>{`${rule.query === null ? 'every query' : `query “${rule.query}”`}, ${rule.sources === null ? 'every source' : rule.sources.join(', ')}`}</td>
      <td>
        <ul class="settings">
          {Object.entries(shown.params).map(([name, value]) => <li>{`${name}: ${Array.isArray(value) ? value.join(', ') || 'any' : value ?? 'any'}`}</li>)}
        </ul>
      </td>
      <td>{`${count(rule.coolDownMinutes)} min`}</td>
      <td>
        <ul class="settings">
          {shown.destinations.map((d) => <li>{'to' in d ? `email to ${(d.to ?? []).join(', ')}` : `${d.type} ${d.url}${d.type === 'webhook' && d.has_secret ? ' (signed)' : ''}`}</li>)}
        </ul>
      </td>
      <td>{rule.lastEventAt ? utc(rule.lastEventAt) : 'never fired'}</td>
      <td class="actions">
        <ActionButton viewer={viewer} action={`/ui/alerts/${rule.id}/test`} label="Test" kind="primary" describedBy={nameId} />
        <ActionButton viewer={viewer} action={`/ui/alerts/${rule.id}/${rule.enabled ? 'disable' : 'enable'}`} label={rule.enabled ? 'Disable' : 'Enable'} describedBy={nameId} />
        <ActionButton viewer={viewer} action={`/ui/alerts/${rule.id}/delete`} label="Delete" kind="danger" describedBy={nameId} />
      </td>
    </tr>
  );
}

function CreateForm({ viewer, sources, queries }: { viewer: Viewer; sources: string[]; queries: string[] }) {
  return (
    <form method="post" action="/ui/alerts" class="card" aria-labelledby="create-h">
      <h2 id="create-h">Create a rule</h2>
      <Csrf viewer={viewer} />
      <label>Name <input type="text" name="name" required maxlength={100} autocomplete="off" /></label>
      <label>Kind
        <select name="kind">
          {ALERT_KINDS.map((kind) => <option value={kind}>{kind}</option>)}
        </select>
      </label>
      <label>Tracked query
        <select name="query">
          <option value="">every query</option>
          {queries.map((query) => <option value={query}>{query}</option>)}
        </select>
      </label>
      <fieldset>
        <legend>Sources (none ticked: every source)</legend>
        {sources.map((name) => <label class="check"><input type="checkbox" name="sources" value={name} />{name}</label>)}
      </fieldset>
      <fieldset>
        <legend>new_post: a post that matches all of these</legend>
        <label>Keywords, separated by commas (none: any post) <input type="text" name="keywords" autocomplete="off" /></label>
        <fieldset>
          <legend>Sentiments (none ticked: any)</legend>
          {SENTIMENT_LABELS.map((label) => <label class="check"><input type="checkbox" name="sentiments" value={label} />{label}</label>)}
        </fieldset>
        <label>Rated at most (empty: any) <input type="number" name="max_rating" step="any" /></label>
      </fieldset>
      <fieldset>
        <legend>volume_spike and negative_share_spike</legend>
        <label>Window
          <select name="window_minutes">
            {WINDOW_MINUTES.map((minutes) => <option value={String(minutes)}>{`${minutes / 60} h`}</option>)}
          </select>
        </label>
        <label>Baseline days (default 14) <input type="number" name="baseline_days" min={1} max={90} step={1} /></label>
        <label>k, σ above the expected (default 3) <input type="number" name="k" min={1} max={10} step="any" /></label>
        <label>volume_spike: fewest posts that are a spike (default 3) <input type="number" name="min_count" min={1} step={1} /></label>
        <label>negative_share_spike: fewest posts a window is judged on (default 10) <input type="number" name="min_volume" min={1} step={1} /></label>
      </fieldset>
      <label>Cool-down in minutes (default 0 for new_post, 360 for spikes) <input type="number" name="cool_down_minutes" min={0} step={1} /></label>
      <fieldset>
        <legend>Destination</legend>
        <label>Type
          <select name="destination_type">
            <option value="webhook">webhook (signed JSON)</option>
            <option value="slack">slack (Slack-compatible incoming webhook)</option>
          </select>
        </label>
        <label>URL <input type="url" name="destination_url" required autocomplete="off" /></label>
        <label>Secret (webhook only, 16 to 256 characters) <input type="password" name="destination_secret" autocomplete="new-password" /></label>
      </fieldset>
      <button type="submit" class="button primary">Create rule</button>
    </form>
  );
}
