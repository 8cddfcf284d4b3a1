// Lua scripts registered on a connection, one file each, whose name ends with how many keys it takes (BullMQ's
// convention): enqueue-4.lua takes four. A set may have a prelude prepended to every script (shared helpers).
// ioredis sends EVALSHA and falls back to EVAL after a SCRIPT FLUSH or a restart.
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

export type Reply = string | number | null | Reply[];

export interface ScriptSet<Name extends string> {
  run(name: Name, keys: string[], args: (string | number)[]): Promise<Reply>;
}

export interface ScriptSetDefinition<Name extends string> {
  /** Distinguishes this set's commands on a connection shared with other sets. */
  namespace: string;
  dir: URL;
  /** Script name -> file name without `.lua`. */
  files: Record<Name, string>;
  /** Prepended to every script, read once. */
  prelude?: () => string;
}

const loaded = new Map<string, Map<string, { lua: string; numberOfKeys: number }>>();

function sourcesOf<Name extends string>(definition: ScriptSetDefinition<Name>): Map<string, { lua: string; numberOfKeys: number }> {
  let sources = loaded.get(definition.namespace);
  if (sources) return sources;
  const prelude = definition.prelude?.() ?? '';
  sources = new Map(
    (Object.entries(definition.files) as [Name, string][]).map(([name, file]) => [
      name,
      {
        lua: `${prelude}${prelude ? '\n' : ''}${readFileSync(new URL(`${file}.lua`, definition.dir), 'utf8')}`,
        numberOfKeys: Number(file.slice(file.lastIndexOf('-') + 1)),
      },
    ]),
  );
  loaded.set(definition.namespace, sources);
  return sources;
}

export function defineScriptSet<Name extends string>(redis: Redis, definition: ScriptSetDefinition<Name>): ScriptSet<Name> {
  const commandName = (name: string) => `${definition.namespace}_${name.replaceAll('-', '_')}`;
  for (const [name, { lua, numberOfKeys }] of sourcesOf(definition)) {
    if (!(commandName(name) in redis)) redis.defineCommand(commandName(name), { lua, numberOfKeys });
  }
  return {
    run(name, keys, args) {
      const command = (redis as unknown as Record<string, (...a: (string | number)[]) => Promise<Reply>>)[commandName(name)];
      if (!command) throw new Error(`script ${name} is not defined`);
      return command.call(redis, ...keys, ...args);
    },
  };
}
