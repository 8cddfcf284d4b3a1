// Backups: the complete dumps in BACKUP_DIR, newest first, and a button that queues a manual one.
import { Hono } from 'hono';
import type { ApiDeps } from '../../api/deps.ts';
import { enqueueBackup } from '../../api/jobs.ts';
import { listBackups } from '../../backup/files.ts';
import { count, utc } from '../format.ts';
import { ActionButton, Empty, Layout, notice, render } from '../layout.tsx';
import { type DashboardEnv, requireAdmin } from '../viewer.ts';

export function backupsRoutes(deps: ApiDeps) {
  return new Hono<DashboardEnv>()
    .get('/', async (c) => {
      const backups = await listBackups(deps.config.backupDir);
      const viewer = c.get('viewer');
      return render(
        c,
        <Layout title="Backups" path="/ui/backups" viewer={viewer} notice={notice(c)}>
          <p><ActionButton viewer={viewer} action="/ui/backups" label="Back up now" kind="primary" /></p>
          {backups.length === 0 ? <Empty>No backup yet.</Empty> : (
            <table class="list">
              <caption>{`${backups.length} ${backups.length === 1 ? 'backup' : 'backups'} in BACKUP_DIR, newest first`}</caption>
              <thead><tr><th scope="col">File</th><th scope="col">Type</th><th scope="col">Made</th><th scope="col">Size</th></tr></thead>
              <tbody>
                {backups.map((b) => (
                  <tr><th scope="row">{b.name}</th><td>{b.type}</td><td>{utc(Date.parse(b.created_at))}</td><td>{`${count(b.size_bytes / 1024 / 1024)} MB`}</td></tr>
                ))}
              </tbody>
            </table>
          )}
        </Layout>,
      );
    })
    .post('/', requireAdmin, async (c) => {
      const job = await enqueueBackup(deps, 'manual');
      return c.redirect(`/ui/queue/jobs/${job.id}?notice=backup_queued`, 303);
    });
}
