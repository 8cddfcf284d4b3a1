// A problem found while starting (a service down, a wrong setting) that the operator fixes, not a bug:
// entry files print its message as one line, without a stack trace, and exit 1.
export class StartupError extends Error {
  override name = 'StartupError';
}

export function exitOnStartupError(error: unknown): never {
  const known = error instanceof StartupError || (error instanceof Error && error.name === 'ConfigError');
  const message = known ? (error as Error).message : `unexpected error while starting: ${error instanceof Error ? error.stack : String(error)}`;
  process.stderr.write(`vibe-tracker: ${message}\n`);
  process.exit(1);
}

/** host:port/database of a URL, never its password. */
export function describeUrl(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || 'default port'}${parsed.pathname}`;
}

export function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StartupError(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
