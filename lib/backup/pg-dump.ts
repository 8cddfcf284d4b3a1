import { spawn } from 'node:child_process';

/**
 * Runs a PostgreSQL client tool against DATABASE_URL. The password travels in PGPASSWORD, not on the command
 * line, where `ps` would show it. Resolves with stdout; rejects with the tool's last stderr lines.
 */
export function runPgTool(tool: 'pg_dump' | 'pg_restore', args: string[], databaseUrl: string | null, signal: AbortSignal): Promise<string> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  const finalArgs = [...args];
  if (databaseUrl) {
    const url = new URL(databaseUrl);
    if (url.password) env.PGPASSWORD = decodeURIComponent(url.password);
    url.password = '';
    finalArgs.push(`--dbname=${url.toString()}`);
  }
  return new Promise((resolve, reject) => {
    const child = spawn(tool, finalArgs, { env, signal, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4_000)));
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') reject(new Error(`${tool} is not installed: install the PostgreSQL client of the server's major version`));
      else reject(signal.aborted ? signal.reason : error);
    });
    child.on('close', (code) => {
      if (code === 0) resolve(stdout);
      else reject(new Error(`${tool} exited with ${code}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`));
    });
  });
}
