/**
 * Configuration comes from environment variables only, parsed once at start-up into a typed,
 * frozen object. A bad value stops start-up with one message listing every bad variable, so an
 * operator fixes them all in one go instead of one per restart.
 */
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Config {
  port: number;
  host: string;
  databaseUrl: string;
  logLevel: LogLevel;
  adminClientId: string | undefined;
  adminClientSecret: string | undefined;
  /** Public base URL used as the JWT issuer and in discovery documents. */
  issuer: string;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  signingKeyRotationDays: number;
  bodyLimitBytes: number;
  /** Jobs this process runs at the same time; 0 runs none (an API-only process). */
  jobConcurrency: number;
  /** A request holding an Idempotency-Key that has not answered after this long is taken to have died (its key is free again). */
  idempotencyAbandonedSeconds: number;
  /** How often an idle job runner looks for due jobs, in milliseconds. */
  jobPollMs: number;
  /** A job runner's lease on a job; a crashed runner's jobs are retried this long after its last heartbeat. */
  jobLeaseSeconds: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];

  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
      problems.push(`${name}=${JSON.stringify(raw)}: expected a whole number from ${min} to ${max}`);
      return fallback;
    }
    return value;
  };

  const port = int('PORT', 8080, 0, 65535);
  const host = env.HOST?.trim() || '127.0.0.1';

  const databaseUrl = env.DATABASE_URL?.trim() || 'sqlite:./data/roster.db';
  if (!/^(sqlite:|postgres(ql)?:\/\/)/.test(databaseUrl)) {
    problems.push(`DATABASE_URL=${JSON.stringify(redactUrl(databaseUrl))}: expected sqlite:<path> or postgres://…`);
  }

  const logLevelRaw = (env.LOG_LEVEL?.trim() || 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevelRaw)) {
    problems.push(`LOG_LEVEL=${JSON.stringify(logLevelRaw)}: expected one of ${LOG_LEVELS.join(', ')}`);
  }

  const adminClientId = env.ROSTER_ADMIN_CLIENT_ID?.trim() || undefined;
  const adminClientSecret = env.ROSTER_ADMIN_CLIENT_SECRET || undefined;
  if ((adminClientId === undefined) !== (adminClientSecret === undefined)) {
    problems.push('ROSTER_ADMIN_CLIENT_ID and ROSTER_ADMIN_CLIENT_SECRET must be set together');
  }
  if (adminClientId !== undefined && !/^[A-Za-z0-9._~-]{3,128}$/.test(adminClientId)) {
    problems.push('ROSTER_ADMIN_CLIENT_ID: 3–128 characters of letters, digits, and . _ ~ -');
  }
  if (adminClientSecret !== undefined && adminClientSecret.length < 16) {
    problems.push('ROSTER_ADMIN_CLIENT_SECRET: must be at least 16 characters');
  }

  const accessTokenTtlSeconds = int('ACCESS_TOKEN_TTL_SECONDS', 900, 60, 86_400);
  const refreshTokenTtlSeconds = int('REFRESH_TOKEN_TTL_SECONDS', 30 * 86_400, 300, 365 * 86_400);
  const signingKeyRotationDays = int('SIGNING_KEY_ROTATION_DAYS', 30, 1, 3650);
  const bodyLimitBytes = int('BODY_LIMIT_BYTES', 1_048_576, 1024, 100 * 1_048_576);
  const jobConcurrency = int('JOB_CONCURRENCY', 2, 0, 64);
  const jobPollMs = int('JOB_POLL_MS', 1000, 10, 60_000);
  const jobLeaseSeconds = int('JOB_LEASE_SECONDS', 30, 5, 3600);
  const idempotencyAbandonedSeconds = int('IDEMPOTENCY_ABANDONED_SECONDS', 60, 1, 3600);

  const issuer = (env.ROSTER_ISSUER?.trim() || `http://${host === '0.0.0.0' ? 'localhost' : host}:${port}`).replace(/\/+$/, '');
  if (!/^https?:\/\/[^\s]+$/.test(issuer)) {
    problems.push(`ROSTER_ISSUER=${JSON.stringify(issuer)}: expected an http(s) URL`);
  }

  if (problems.length > 0) throw new ConfigError(problems);

  return Object.freeze({
    port,
    host,
    databaseUrl,
    logLevel: logLevelRaw,
    adminClientId,
    adminClientSecret,
    issuer,
    accessTokenTtlSeconds,
    refreshTokenTtlSeconds,
    signingKeyRotationDays,
    bodyLimitBytes,
    jobConcurrency,
    jobPollMs,
    jobLeaseSeconds,
    idempotencyAbandonedSeconds,
  });
}

/** Hides a password in a connection URL before it reaches a log line or an error message. */
export function redactUrl(url: string): string {
  return url.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@');
}
