import { Hono } from 'hono';
import { listBackups } from '../backup/files.ts';
import type { ApiDeps } from './deps.ts';

/** GET /backups: complete backups in BACKUP_DIR, newest first. */
export function backupsRoutes(deps: ApiDeps) {
  return new Hono().get('/', async (c) => c.json({ backups: await listBackups(deps.config.backupDir) }));
}
