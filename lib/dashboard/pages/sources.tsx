// Every source: usable now or what to set, its limit, and its last success and failure with the message.
import { Hono } from 'hono';
import type { ApiDeps } from '../../api/deps.ts';
import { listSourceRuns } from '../../db/sources.ts';
import { publicUrl } from '../../http/public-url.ts';
import { utc } from '../format.ts';
import { Layout, render } from '../layout.tsx';
import type { DashboardEnv } from '../viewer.ts';

export function sourcesRoutes(deps: ApiDeps) {
  return new Hono<DashboardEnv>().get('/', async (c) => {
    const runs = new Map((await listSourceRuns(deps.sql)).map((run) => [run.source, run]));
    const env = deps.config.env;
    return render(
      c,
      <Layout title="Sources" path="/ui/sources" viewer={c.get('viewer')}>
        <table class="list">
          <caption class="sr-only">Sources</caption>
          <thead>
            <tr><th scope="col">Source</th><th scope="col">Usable</th><th scope="col">Limit</th><th scope="col">Settings</th><th scope="col">Last success</th><th scope="col">Last failure</th></tr>
          </thead>
          <tbody>
            {deps.sources.all().map((source) => {
              const missing = source.missingSettings();
              const run = runs.get(source.name);
              const failing = run?.last_failure_at && (!run.last_success_at || run.last_failure_at > run.last_success_at);
              const { requests, perMs, concurrency } = source.rateLimit;
              return (
                <tr data-source={source.name} class={failing ? 'failing' : undefined}>
                  <th scope="row">{source.name}<div class="muted">{source.description}</div><div class="muted">{publicUrl(deps.sources.baseUrl(source.name)) ?? ''}</div></th>
                  <td>{missing === null ? <span class="badge completed">usable</span> : <><span class="badge failed">not usable</span><div class="muted">{missing}</div></>}</td>
                  <td>{`${requests} per ${perMs / 1000} s, ${concurrency} at once`}</td>
                  <td>
                    {source.settings.length === 0 ? 'none' : (
                      <ul class="settings">
                        {source.settings.map((s) => <li>{`${s.name}${s.required ? ' (required)' : ''}: ${env[s.name]?.trim() ? 'set' : 'not set'}`}</li>)}
                      </ul>
                    )}
                  </td>
                  <td>{utc(run?.last_success_at ?? null)}</td>
                  <td>{utc(run?.last_failure_at ?? null)}{run?.last_error ? <div class="muted">{`${run.last_error.code}: ${run.last_error.message}`}</div> : null}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </Layout>,
    );
  });
}
