// Alert rules are another part of the product (the /alerts API); until the dashboard draws them, this page says
// where they are managed.
import { Hono } from 'hono';
import { Layout, render } from '../layout.tsx';
import type { DashboardEnv } from '../viewer.ts';

export function alertsRoutes() {
  return new Hono<DashboardEnv>().get('/', (c) =>
    render(
      c,
      <Layout title="Alerts" path="/ui/alerts" viewer={c.get('viewer')}>
        <p>Alert rules and their events are managed through the alerts API at <code>/alerts</code>.</p>
        <p>This page will list the rules (create, edit, test, delete) and their events once that API is part of this release.</p>
      </Layout>,
    ),
  );
}
