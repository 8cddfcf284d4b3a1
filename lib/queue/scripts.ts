import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import { FINAL_STATUSES, JOB_DURATION_BUCKETS } from '../model/job.ts';
import { type ScriptSet, defineScriptSet } from '../redis/scripts.ts';

// Each script's file name ends with how many keys it takes (BullMQ's convention); the shared helpers in
// include-shared.lua are prepended so every script sees the same insert_pending, finalize and claim_fields.
const LUA_DIR = new URL('./lua/', import.meta.url);
const SCRIPT_FILES = {
  enqueue: 'enqueue-4',
  claim: 'claim-3',
  'claim-many': 'claim-many-3',
  renew: 'renew-3',
  finish: 'finish-10',
  cancel: 'cancel-5',
  sweep: 'sweep-10',
  retry: 'retry-4',
  'history-ack': 'history-ack-3',
  'settle-parent': 'settle-parent-6',
  'backup-claim': 'backup-claim-1',
  'upgrade-recent': 'upgrade-recent-1',
} as const;

export type QueueScriptName = keyof typeof SCRIPT_FILES;
export type QueueScripts = ScriptSet<QueueScriptName>;

/** FINAL_STATUSES for the scripts, so Lua and TypeScript agree on what finished means (is_final in include-shared.lua). */
function finalStatusesLua(): string {
  return `local FINAL_STATUSES = { ${FINAL_STATUSES.map((status) => `['${status}'] = true`).join(', ')} }`;
}

export function defineScripts(redis: Redis): QueueScripts {
  return defineScriptSet(redis, {
    namespace: 'vibe',
    dir: LUA_DIR,
    files: SCRIPT_FILES,
    prelude: () => `${finalStatusesLua()}\nlocal JOB_DURATION_BUCKETS = { ${JOB_DURATION_BUCKETS.join(', ')} }\n${readFileSync(new URL('include-shared.lua', LUA_DIR), 'utf8')}`,
  });
}
