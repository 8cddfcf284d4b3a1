// One place that reads the environment, once, at start-up. A bad value throws ConfigError naming the
// variable; entry files print its message as one line and exit.

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Config {
  databaseUrl: string;
  redisUrl: string;
  redisPrefix: string;
  redisEvictionCheck: boolean;
  host: string;
  port: number;
  environment: string;
  logLevel: LogLevel;
  /** The admin token: every mutating route needs it (it reads too). Required with ENVIRONMENT=production. */
  apiToken: string | null;
  /** The read token: every GET that shows data or internals. Required in production unless API_PUBLIC_READS. */
  apiReadToken: string | null;
  apiPublicReads: boolean;
  /** Mutating requests one client address may send per window, across every API process (0: no limit). */
  apiClientRate: { requests: number; perMs: number };
  /** Client addresses whose X-Forwarded-For / X-Real-IP are believed (the proxy in front, e.g. nginx). */
  trustedProxies: string[];
  /** Node's HTTP server limits. */
  apiHeadersTimeoutMs: number;
  apiRequestTimeoutMs: number;
  apiKeepAliveTimeoutMs: number;
  apiMaxConnections: number;
  /** PostgreSQL statement_timeout of the API's queries; a read that hits it is a 504. */
  apiStatementTimeoutMs: number;
  /** Full-text searches one API process runs at once, and how many may wait for a turn. */
  apiSearchConcurrency: number;
  apiSearchQueue: number;
  /** Exports one API process streams at once (each holds a database connection of its own while it runs). */
  apiExportConcurrency: number;
  /** How long an export waits for a client that stopped reading before it gives its turn and connection back. */
  apiExportStallMs: number;
  /** How long a dashboard sign-in lasts (from sign-in, not from the last request), and how many live streams one API process serves. */
  dashboardSessionMs: number;
  dashboardMaxStreams: number;
  /** Jobs waiting (pending and due for a retry) past which an enqueue is refused with a 503. */
  maxWaitingJobs: number;
  maxTrackedQueries: number;
  workerConcurrency: number;
  /** CPU niceness the worker gives itself (0-19): background scraping yields to the API on a shared box. */
  workerNice: number;
  jobLeaseMs: number;
  jobMaxAttempts: number;
  jobRetryBaseMs: number;
  jobRetentionMs: number;
  shutdownTimeoutMs: number;
  httpUserAgent: string;
  httpTimeoutMs: number;
  /** Largest upstream body, as sent and once decoded (gzip, br, deflate); MAX_BODY_BYTES_<NAME> overrides per source. */
  httpMaxBodyBytes: number;
  /** At most this many new posts, and this many pages, per incremental run; a run cut short carries on next time. */
  scrapeMaxNewPosts: number;
  scrapeMaxPages: number;
  /** Upstream origins overridden with SOURCE_BASE_URL_<NAME>, keyed by lower-case source name. */
  sourceBaseUrls: Record<string, string>;
  /** The environment as read at start-up; sources read their own variables from it through an EnvReader. */
  env: Readonly<Env>;
  /** API processes behind one port (node:cluster). */
  apiWorkers: number;
  autoScrapeCron: string;
  /** Sources the automatic scrape uses; empty means every source usable now. */
  autoScrapeSources: string[];
  backupDir: string;
  backupHourlyCron: string;
  backupDailyCron: string;
  backupKeepHourly: number;
  backupKeepDaily: number;
  backupKeepManual: number;
  backupTimeoutMs: number;
  /** Networks alert webhooks may reach although they are not public (addresses, CIDR ranges, "loopback", "private"). */
  webhookAllowNetworks: string[];
  webhookTimeoutMs: number;
  /** Attempts of each alert delivery before it goes to the dead-letter list. */
  alertDeliveryMaxAttempts: number;
  /** When the scheduler enqueues the check that ends the spike rules' windows. */
  alertCheckCron: string;
  /** A second listen address ("host:port") serving only GET /metrics, without a token, for a private scraper. */
  metricsListen: { host: string; port: number } | null;
  /** The SMTP server email destinations are sent through (smtp:// with STARTTLS when offered, or smtps://); null: no email. */
  smtpUrl: string | null;
  /** The sender address of alert emails. */
  smtpFrom: string | null;
  /** A PEM file of the CA that signed the SMTP server's certificate, when it is a private one. */
  smtpCaFile: string | null;
}

export type Env = Record<string, string | undefined>;

const DEFAULT_USER_AGENT =
  'vibe-tracker/0.1 (self-hosted customer-feedback tracker; one request at a time per site)';

export function loadConfig(env: Env = process.env): Config {
  const read = new EnvReader(env);
  return Object.freeze({
    databaseUrl: read.url('DATABASE_URL', 'postgres://localhost:5432/ocft_tracker', ['postgres:', 'postgresql:']),
    redisUrl: read.url('REDIS_URL', 'redis://localhost:6379/0', ['redis:', 'rediss:']),
    redisPrefix: read.pattern('REDIS_PREFIX', 'vibe', /^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, "_", "." or "-"'),
    redisEvictionCheck: read.onOff('REDIS_EVICTION_CHECK', true),
    host: read.string('HOST', '0.0.0.0'),
    port: read.integer('PORT', 8000, 0, 65535),
    environment: read.string('ENVIRONMENT', 'development'),
    logLevel: read.oneOf('LOG_LEVEL', 'info', ['debug', 'info', 'warn', 'error'] as const),
    apiToken: read.string('API_TOKEN', '') || null,
    apiReadToken: read.string('API_READ_TOKEN', '') || null,
    apiPublicReads: read.onOff('API_PUBLIC_READS', false),
    apiClientRate: read.rate('API_CLIENT_RATE_LIMIT', '120/60'),
    trustedProxies: read.list('TRUSTED_PROXIES', ['loopback', 'private']),
    apiHeadersTimeoutMs: read.integer('API_HEADERS_TIMEOUT_MS', 10_000, 1_000, 600_000),
    apiRequestTimeoutMs: read.integer('API_REQUEST_TIMEOUT_MS', 30_000, 1_000, 3_600_000),
    apiKeepAliveTimeoutMs: read.integer('API_KEEP_ALIVE_TIMEOUT_MS', 5_000, 100, 600_000),
    apiMaxConnections: read.integer('API_MAX_CONNECTIONS', 1_000, 10, 1_000_000),
    apiStatementTimeoutMs: read.integer('API_STATEMENT_TIMEOUT_MS', 10_000, 100, 3_600_000),
    apiSearchConcurrency: read.integer('API_SEARCH_CONCURRENCY', 3, 1, 100),
    apiSearchQueue: read.integer('API_SEARCH_QUEUE', 20, 0, 10_000),
    apiExportConcurrency: read.integer('API_EXPORT_CONCURRENCY', 2, 1, 100),
    apiExportStallMs: read.integer('API_EXPORT_STALL_MS', 60_000, 1_000, 3_600_000),
    dashboardSessionMs: read.integer('DASHBOARD_SESSION_HOURS', 12, 1, 720) * 3_600_000,
    dashboardMaxStreams: read.integer('DASHBOARD_MAX_STREAMS', 50, 1, 10_000),
    maxWaitingJobs: read.integer('MAX_WAITING_JOBS', 100_000, 1, 100_000_000),
    maxTrackedQueries: read.integer('MAX_TRACKED_QUERIES', 1_000, 1, 1_000_000),
    workerConcurrency: read.integer('WORKER_CONCURRENCY', 2, 1, 256),
    workerNice: read.integer('WORKER_NICE', 10, 0, 19),
    jobLeaseMs: read.integer('JOB_LEASE_MS', 20_000, 1_000, 600_000),
    jobMaxAttempts: read.integer('JOB_MAX_ATTEMPTS', 3, 1, 100),
    jobRetryBaseMs: read.integer('JOB_RETRY_BASE_MS', 2_000, 10, 3_600_000),
    jobRetentionMs: read.integer('JOB_RETENTION_DAYS', 7, 1, 3650) * 86_400_000,
    shutdownTimeoutMs: read.integer('WORKER_SHUTDOWN_TIMEOUT_MS', 25_000, 0, 3_600_000),
    httpUserAgent: read.string('HTTP_USER_AGENT', DEFAULT_USER_AGENT),
    httpTimeoutMs: read.integer('HTTP_TIMEOUT_MS', 20_000, 100, 300_000),
    httpMaxBodyBytes: read.integer('MAX_BODY_BYTES', 32 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    scrapeMaxNewPosts: read.integer('SCRAPE_MAX_NEW_POSTS', 1_000, 1, 100_000),
    scrapeMaxPages: read.integer('SCRAPE_MAX_PAGES', 100, 1, 10_000),
    sourceBaseUrls: read.sourceBaseUrls(),
    env: Object.freeze({ ...env }),
    apiWorkers: read.integer('WORKERS', 1, 1, 64),
    autoScrapeCron: read.string('AUTO_SCRAPE_CRON', '0 */3 * * *'),
    autoScrapeSources: read.list('AUTO_SCRAPE_SOURCES', []),
    backupDir: read.string('BACKUP_DIR', './backups'),
    backupHourlyCron: read.string('BACKUP_HOURLY_CRON', '0 * * * *'),
    backupDailyCron: read.string('BACKUP_DAILY_CRON', '0 2 * * *'),
    backupKeepHourly: read.integer('BACKUP_KEEP_HOURLY', 24, 1, 10_000),
    backupKeepDaily: read.integer('BACKUP_KEEP_DAILY', 30, 1, 10_000),
    backupKeepManual: read.integer('BACKUP_KEEP_MANUAL', 10, 1, 10_000),
    backupTimeoutMs: read.integer('BACKUP_TIMEOUT_MS', 30 * 60_000, 1_000, 24 * 3_600_000),
    webhookAllowNetworks: read.list('WEBHOOK_ALLOW_NETWORKS', []),
    webhookTimeoutMs: read.integer('WEBHOOK_TIMEOUT_MS', 10_000, 100, 120_000),
    alertDeliveryMaxAttempts: read.integer('ALERT_DELIVERY_MAX_ATTEMPTS', 5, 1, 100),
    alertCheckCron: read.string('ALERT_CHECK_CRON', '*/5 * * * *'),
    metricsListen: read.listenAddress('METRICS_LISTEN'),
    smtpUrl: read.optional('SMTP_URL') === null ? null : read.url('SMTP_URL', '', ['smtp:', 'smtps:']),
    smtpFrom: read.mailAddress('SMTP_FROM', read.optional('SMTP_URL') !== null),
    smtpCaFile: read.optional('SMTP_CA_FILE'),
  });
}

/** Typed reads of environment variables; every bad value throws a ConfigError that names the variable. */
export class EnvReader {
  constructor(private readonly env: Env) {}

  private raw(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value === '' ? undefined : value;
  }

  string(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  /** The value, or null when unset or empty. */
  optional(name: string): string | null {
    return this.raw(name) ?? null;
  }

  /** Comma-separated values, trimmed, empty ones dropped. */
  list(name: string, fallback: string[]): string[] {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    return value.split(',').map((item) => item.trim()).filter(Boolean);
  }

  integer(name: string, fallback: number, min: number, max: number): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if (!/^-?\d+$/.test(value) || Number(value) < min || Number(value) > max) {
      throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${value}"`);
    }
    return Number(value);
  }

  /** "requests/seconds", e.g. "120/60"; "0" turns the limit off. */
  rate(name: string, fallback: string): { requests: number; perMs: number } {
    const value = this.raw(name) ?? fallback;
    if (value === '0') return { requests: 0, perMs: 1_000 };
    const match = /^(\d+)\/(\d+(?:\.\d+)?)$/.exec(value);
    if (!match || Number(match[1]) < 1 || Number(match[2]) <= 0) {
      throw new ConfigError(`${name} must look like "requests/seconds", e.g. "120/60", or be 0 for no limit; got "${value}"`);
    }
    return { requests: Number(match[1]), perMs: Number(match[2]) * 1000 };
  }

  onOff(name: string, fallback: boolean): boolean {
    const value = this.raw(name)?.toLowerCase();
    if (value === undefined) return fallback;
    if (['on', 'true', '1', 'yes'].includes(value)) return true;
    if (['off', 'false', '0', 'no'].includes(value)) return false;
    throw new ConfigError(`${name} must be "on" or "off", got "${value}"`);
  }

  oneOf<T extends string>(name: string, fallback: T, allowed: readonly T[]): T {
    const value = this.raw(name)?.toLowerCase();
    if (value === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(value)) {
      throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got "${value}"`);
    }
    return value as T;
  }

  pattern(name: string, fallback: string, re: RegExp, expected: string): string {
    const value = this.raw(name) ?? fallback;
    if (!re.test(value)) throw new ConfigError(`${name} must be 1-64 ${expected}, got "${value}"`);
    return value;
  }

  url(name: string, fallback: string, protocols: string[]): string {
    const value = this.raw(name) ?? fallback;
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      throw new ConfigError(`${name} is not a valid URL`);
    }
    if (!protocols.includes(parsed.protocol)) {
      throw new ConfigError(`${name} must start with ${protocols.map((p) => `${p}//`).join(' or ')}`);
    }
    return value;
  }

  sourceBaseUrls(): Record<string, string> {
    const urls: Record<string, string> = {};
    for (const name of Object.keys(this.env)) {
      const match = /^SOURCE_BASE_URL_([A-Z0-9_]+)$/.exec(name);
      if (!match?.[1] || this.raw(name) === undefined) continue;
      const value = this.url(name, '', ['http:', 'https:']);
      urls[match[1].toLowerCase().replaceAll('_', '-')] = value.replace(/\/+$/, '');
    }
    return urls;
  }

  /** "key=value,key2=value2" pairs, keys lower-cased. */
  pairs(name: string, fallback: string): Record<string, string> {
    const pairs: Record<string, string> = {};
    for (const pair of (this.raw(name) ?? fallback).split(',').filter(Boolean)) {
      const [key, value] = pair.split('=').map((part) => part.trim());
      if (!key || !value) throw new ConfigError(`${name} must look like "key=value,other=value"`);
      pairs[key.toLowerCase()] = value;
    }
    return pairs;
  }

  /**
   * Comma-separated http(s) addresses (forums, instances): each its origin, or with `keepPath` its origin and path
   * without a trailing slash (a forum may live under /community). With `assumeHttps`, a bare host name is https.
   */
  httpOrigins(name: string, what: string, example: string, options: { keepPath?: boolean; assumeHttps?: boolean } = {}): string[] {
    return this.list(name, []).map((value) => {
      let url: URL | null = null;
      try {
        url = new URL(options.assumeHttps && !/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? `https://${value}` : value);
      } catch {
        // reported below
      }
      if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
        throw new ConfigError(`${name} must be comma-separated ${what} such as "${example}" (https:// or http://), got "${value}"`);
      }
      return options.keepPath ? `${url.origin}${url.pathname.replace(/\/+$/, '')}` : url.origin;
    });
  }

  /** A plain address (user@example.com), or null when unset; `required` says another setting needs it. */
  mailAddress(name: string, required: boolean): string | null {
    const value = this.raw(name);
    if (value === undefined) {
      if (required) throw new ConfigError(`${name} must be set to the sender address (e.g. alerts@example.com) when SMTP_URL is`);
      return null;
    }
    if (!/^[^\s@<>,"]{1,64}@[A-Za-z0-9.-]{1,253}$/.test(value)) throw new ConfigError(`${name} must be a plain address such as alerts@example.com, got "${value}"`);
    return value;
  }

  /** "host:port" (an IPv6 host in brackets), or null when unset. */
  listenAddress(name: string): { host: string; port: number } | null {
    const value = this.raw(name);
    if (value === undefined) return null;
    const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]+)):(\d{1,5})$/.exec(value);
    const port = Number(match?.[3]);
    if (!match || port > 65535) throw new ConfigError(`${name} must look like "host:port", e.g. "10.0.0.5:9464" or "[::1]:9464", got "${value}"`);
    return { host: match[1] ?? match[2]!, port };
  }

  /** An http(s) origin or URL, without a trailing slash; null when unset. */
  httpUrl(name: string): string | null {
    if (this.raw(name) === undefined) return null;
    return this.url(name, '', ['http:', 'https:']).replace(/\/+$/, '');
  }
}

const MIN_TOKEN_LENGTH = 24;

/**
 * The API's own start-up check: in production it does not run open. API_TOKEN guards every change and
 * API_READ_TOKEN every read, unless reads were made public on purpose; a short token is refused as guessable.
 */
export function assertApiSecured(config: Pick<Config, 'environment' | 'apiToken' | 'apiReadToken' | 'apiPublicReads'>): void {
  for (const [name, token] of [['API_TOKEN', config.apiToken], ['API_READ_TOKEN', config.apiReadToken]] as const) {
    if (token !== null && token.length < MIN_TOKEN_LENGTH) throw new ConfigError(`${name} must be at least ${MIN_TOKEN_LENGTH} characters (e.g. \`openssl rand -hex 24\`)`);
  }
  if (config.apiToken !== null && config.apiToken === config.apiReadToken) throw new ConfigError('API_READ_TOKEN must differ from API_TOKEN');
  if (config.environment !== 'production') return;
  if (config.apiToken === null) {
    throw new ConfigError('API_TOKEN must be set when ENVIRONMENT=production: every change to jobs, queries and backups needs it (scripts/start-docker.sh writes one into .env)');
  }
  if (config.apiReadToken === null && !config.apiPublicReads) {
    throw new ConfigError('API_READ_TOKEN must be set when ENVIRONMENT=production, or API_PUBLIC_READS=true to let anyone read posts and jobs (scripts/start-docker.sh writes one into .env)');
  }
}
