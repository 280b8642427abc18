import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, redactUrl } from '../../src/config.js';

describe('loadConfig', () => {
  it('has working defaults: SQLite in ./data, 127.0.0.1:8080, 1 MiB bodies', () => {
    expect(loadConfig({})).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      databaseUrl: 'sqlite:./data/roster.db',
      logLevel: 'info',
      issuer: 'http://127.0.0.1:8080',
      accessTokenTtlSeconds: 900,
      bodyLimitBytes: 1_048_576,
      adminClientId: undefined,
    });
  });

  it('lists every bad variable in one error', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', LOG_LEVEL: 'loud', ROSTER_ADMIN_CLIENT_ID: 'admin', ACCESS_TOKEN_TTL_SECONDS: '5' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    for (const name of ['PORT', 'DATABASE_URL', 'LOG_LEVEL', 'ROSTER_ADMIN_CLIENT_SECRET', 'ACCESS_TOKEN_TTL_SECONDS']) expect(problems).toContain(name);
    expect((error as ConfigError).problems).toHaveLength(5);
  });

  it('selects PostgreSQL by URL and never echoes its password', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://roster:pw@db:5432/roster' }).databaseUrl).toBe('postgres://roster:pw@db:5432/roster');
    expect(redactUrl('postgres://roster:pw@db:5432/roster')).toBe('postgres://roster:***@db:5432/roster');
  });

  it('has job runner knobs: 2 jobs at a time, 1 s polls, 30 s leases; 0 disables the runner', () => {
    expect(loadConfig({})).toMatchObject({ jobConcurrency: 2, jobPollMs: 1000, jobLeaseSeconds: 30 });
    const custom = loadConfig({ JOB_CONCURRENCY: '0', JOB_POLL_MS: '250', JOB_LEASE_SECONDS: '60' });
    expect(custom).toMatchObject({ jobConcurrency: 0, jobPollMs: 250, jobLeaseSeconds: 60 });
    const bad = () => loadConfig({ JOB_CONCURRENCY: '-1', JOB_POLL_MS: '0', JOB_LEASE_SECONDS: '1' });
    expect(bad).toThrow(/JOB_CONCURRENCY[\s\S]*JOB_POLL_MS[\s\S]*JOB_LEASE_SECONDS/);
  });

  it('rejects a short bootstrap secret', () => {
    expect(() => loadConfig({ ROSTER_ADMIN_CLIENT_ID: 'admin', ROSTER_ADMIN_CLIENT_SECRET: 'short' })).toThrow(/at least 16/);
  });
});
