// Tracked queries: what the automatic scrape reads, with the last run of each on each of its sources; add, remove,
// scrape now.
import { type Context, Hono } from 'hono';
import type { ApiDeps } from '../../api/deps.ts';
import { enqueueScrapeAll } from '../../api/jobs.ts';
import { addTrackedQuery } from '../../api/queries.ts';
import { parseScrapeAllRequest, parseTrackRequest } from '../../api/validate.ts';
import { lastScrapeRuns } from '../../db/jobs.ts';
import { listTrackedQueries, untrackQuery } from '../../db/tracked-queries.ts';
import { ApiError } from '../../errors.ts';
import { count, utc } from '../format.ts';
import { ActionButton, Csrf, Empty, Layout, notice, render } from '../layout.tsx';
import { type DashboardEnv, requireAdmin } from '../viewer.ts';

export function queriesRoutes(deps: ApiDeps) {
  const page = async (c: Context<DashboardEnv>, error: string | null = null, status: 200 | 400 = 200) => {
    const tracked = await listTrackedQueries(deps.sql);
    const names = deps.sources.names();
    const runs = await lastScrapeRuns(deps.sql, tracked.map((t) => t.query), names);
    const runOf = new Map(runs.map((run) => [`${run.query}\n${run.source}`, run]));
    const usable = deps.sources.all().filter((source) => source.missingSettings() === null).map((source) => source.name);
    const viewer = c.get('viewer');
    return render(
      c,
      <Layout title="Queries" path="/ui/queries" viewer={viewer} notice={notice(c)} error={error}>
        {viewer.role === 'admin' && viewer.csrf ? (
          <form method="post" action="/ui/queries" class="card" aria-labelledby="add-h">
            <h2 id="add-h">Track a query</h2>
            <Csrf viewer={viewer} />
            <label>Query <input type="text" name="query" required maxlength={200} autocomplete="off" /></label>
            <fieldset>
              <legend>Sources (none ticked: every usable source)</legend>
              {usable.map((name) => <label class="check"><input type="checkbox" name="sources" value={name} />{name}</label>)}
            </fieldset>
            <button type="submit" class="button primary">Track</button>
          </form>
        ) : null}
        {tracked.length === 0 ? <Empty>No query is tracked yet.</Empty> : (
          <table class="list">
            <caption>{`${count(tracked.length)} tracked ${tracked.length === 1 ? 'query' : 'queries'}`}</caption>
            <thead><tr><th scope="col">Query</th><th scope="col">Sources</th><th scope="col">Last run by source</th><th scope="col">Actions</th></tr></thead>
            <tbody>
              {tracked.map((t) => {
                const sources = t.sources ?? usable;
                return (
                  <tr data-query={t.query}>
                    <th scope="row">{t.query}<div class="muted">{`since ${utc(t.created_at)}`}</div></th>
                    <td>{t.sources ? t.sources.join(', ') : 'every usable source'}</td>
                    <td>
                      <ul class="runs">
                        {sources.map((source) => {
                          const run = runOf.get(`${t.query}\n${source}`);
                          if (!run) return <li>{`${source}: not run yet`}</li>;
                          const found = run.result ? `, ${count(Number(run.result.found ?? 0))} found, ${count(Number(run.result.inserted ?? 0))} new` : '';
                          return (
                            <li class={run.status === 'completed' ? 'good' : 'bad'}>
                              {`${source}: ${run.status} ${utc(run.finished_at)}${found}`}
                              {run.error ? <span class="muted">{` (${run.error.code}: ${run.error.message})`}</span> : null}
                            </li>
                          );
                        })}
                      </ul>
                    </td>
                    <td class="actions">
                      <ActionButton viewer={viewer} action={`/ui/queries/${t.id}/scrape`} label="Scrape now" kind="primary" />
                      <ActionButton viewer={viewer} action={`/ui/queries/${t.id}/remove`} label="Remove" kind="danger" />
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </Layout>,
      status,
    );
  };

  const findTracked = async (id: string) => {
    const row = /^\d{1,18}$/.test(id) ? (await listTrackedQueries(deps.sql)).find((t) => t.id === id) : undefined;
    if (!row) throw new ApiError(404, 'query_not_found', `no tracked query with id "${id.slice(0, 32)}"`);
    return row;
  };

  return new Hono<DashboardEnv>()
    .get('/', (c) => page(c))
    .post('/', requireAdmin, async (c) => {
      const form = c.get('form');
      const sources = form.getAll('sources');
      try {
        const request = parseTrackRequest({ query: form.get('query') ?? '', ...(sources.length ? { sources } : {}) }, deps.sources);
        const { outcome } = await addTrackedQuery(deps, request);
        return c.redirect(`/ui/queries?notice=query_${outcome === 'created' ? 'added' : outcome}`, 303);
      } catch (error) {
        if (error instanceof ApiError && error.status === 400) return page(c, error.message, 400);
        throw error;
      }
    })
    .post('/:id/remove', requireAdmin, async (c) => {
      const row = await findTracked(c.req.param('id'));
      await untrackQuery(deps.sql, row.id);
      return c.redirect('/ui/queries?notice=query_removed', 303);
    })
    .post('/:id/scrape', requireAdmin, async (c) => {
      const row = await findTracked(c.req.param('id'));
      const request = parseScrapeAllRequest({ queries: [row.query], ...(row.sources ? { sources: row.sources } : {}) }, deps.sources);
      const { parent } = await enqueueScrapeAll(deps.queue, request);
      return c.redirect(`/ui/queue/jobs/${parent.id}?notice=scrape_queued`, 303);
    });
}
