import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import { FINAL_STATUSES } from '../model/job.ts';

// Each script's file name ends with how many keys it takes (BullMQ's convention); the shared helpers in
// include-shared.lua are prepended so every script sees the same insert_pending, finalize and claim_fields.
const LUA_DIR = new URL('./lua/', import.meta.url);
const SCRIPT_FILES = {
  enqueue: 'enqueue-4',
  claim: 'claim-3',
  'claim-many': 'claim-many-3',
  renew: 'renew-3',
  finish: 'finish-9',
  cancel: 'cancel-5',
  sweep: 'sweep-10',
  retry: 'retry-4',
  'history-ack': 'history-ack-3',
  'settle-parent': 'settle-parent-6',
  'backup-claim': 'backup-claim-1',
  'upgrade-recent': 'upgrade-recent-1',
} as const;

type ScriptName = keyof typeof SCRIPT_FILES;
type Reply = string | number | null | Reply[];

export interface QueueScripts {
  run(name: ScriptName, keys: string[], args: (string | number)[]): Promise<Reply>;
}

let sources: Map<ScriptName, { lua: string; numberOfKeys: number }> | undefined;

function loadSources() {
  if (sources) return sources;
  const include = `${finalStatusesLua()}\n${readFileSync(new URL('include-shared.lua', LUA_DIR), 'utf8')}`;
  sources = new Map(
    (Object.entries(SCRIPT_FILES) as [ScriptName, string][]).map(([name, file]) => [
      name,
      {
        lua: `${include}\n${readFileSync(new URL(`${file}.lua`, LUA_DIR), 'utf8')}`,
        numberOfKeys: Number(file.slice(file.lastIndexOf('-') + 1)),
      },
    ]),
  );
  return sources;
}

/** Registers the scripts on a connection; ioredis sends EVALSHA and falls back to EVAL after a SCRIPT FLUSH or restart. */
export function defineScripts(redis: Redis): QueueScripts {
  for (const [name, { lua, numberOfKeys }] of loadSources()) {
    if (!(commandName(name) in redis)) redis.defineCommand(commandName(name), { lua, numberOfKeys });
  }
  return {
    run(name, keys, args) {
      const command = (redis as unknown as Record<string, (...a: (string | number)[]) => Promise<Reply>>)[commandName(name)];
      if (!command) throw new Error(`queue script ${name} is not defined`);
      return command.call(redis, ...keys, ...args);
    },
  };
}

/** FINAL_STATUSES for the scripts, so Lua and TypeScript agree on what finished means (is_final in include-shared.lua). */
function finalStatusesLua(): string {
  return `local FINAL_STATUSES = { ${FINAL_STATUSES.map((status) => `['${status}'] = true`).join(', ')} }`;
}

function commandName(name: ScriptName): string {
  return `vibe_${name.replaceAll('-', '_')}`;
}
