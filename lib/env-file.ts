// .env as Compose reads it: NAME=value lines, `#` comments, surrounding quotes dropped, nothing expanded. The
// shell's environment wins over the file, as it does for Compose, so `FOO=1 npm run dev` still overrides .env.
import { existsSync, readFileSync } from 'node:fs';

export function readEnvFile(file: string): Record<string, string> {
  if (!existsSync(file)) return {};
  const out: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split(/\r?\n/)) {
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$/.exec(line);
    if (!match) continue;
    const value = match[2]!.trim();
    out[match[1]!] = /^(["']).*\1$/.test(value) ? value.slice(1, -1) : value;
  }
  return out;
}

/** The environment the app's processes get: .env under the shell's own variables. */
export function withEnvFile(file: string, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const merged: Record<string, string> = { ...readEnvFile(file) };
  for (const [name, value] of Object.entries(env)) if (value !== undefined) merged[name] = value;
  return merged;
}
