import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import { buildApp } from '../../src/http/app.js';
import type { Clock } from '../../src/lib/clock.js';
import { openRuntime, type Runtime } from '../../src/runtime.js';
import { createTestDatabase, testDialect } from './test-database.js';

export const ADMIN_CLIENT_ID = 'test-admin';
export const ADMIN_CLIENT_SECRET = 'test-admin-secret-0123456789';

/** A clock tests can move forward to reach expiry times without waiting. */
export class TestClock implements Clock {
  private offsetMs = 0;
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
  advance(seconds: number): void {
    this.offsetMs += seconds * 1000;
  }
}

export interface TestApp {
  app: FastifyInstance;
  runtime: Runtime;
  config: Config;
  clock: TestClock;
  dialect: 'sqlite' | 'postgres';
  /** An access token of the bootstrap admin (scope admin, default tenant), fetched once. */
  adminToken(): Promise<string>;
  /** Gets a token for any client by client credentials. */
  token(clientId: string, clientSecret: string, scope?: string): Promise<string>;
  request(options: InjectOptions & { token?: string }): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

/** A full Roster (real database, real services, real HTTP layer) on a database of its own. */
export async function createTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  const database = await createTestDatabase();
  const config = loadConfig({
    DATABASE_URL: database.url,
    LOG_LEVEL: 'silent',
    ROSTER_ADMIN_CLIENT_ID: ADMIN_CLIENT_ID,
    ROSTER_ADMIN_CLIENT_SECRET: ADMIN_CLIENT_SECRET,
    ROSTER_ISSUER: 'http://roster.test',
    ...env,
  });
  const clock = new TestClock();
  const runtime = await openRuntime(config, { clock });
  await runtime.services.clients.bootstrap({ clientId: ADMIN_CLIENT_ID, clientSecret: ADMIN_CLIENT_SECRET });
  const app = await buildApp({ config, services: runtime.services, logger: false });

  const token = async (clientId: string, clientSecret: string, scope?: string) => {
    const res = await app.inject({ method: 'POST', url: '/v1/oauth/token', payload: { grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret, ...(scope ? { scope } : {}) } });
    if (res.statusCode !== 200) throw new Error(`token request failed: ${res.statusCode} ${res.body}`);
    return (res.json() as { access_token: string }).access_token;
  };
  let admin: string | undefined;

  return {
    app,
    runtime,
    config,
    clock,
    dialect: testDialect(),
    adminToken: async () => (admin ??= await token(ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET)),
    token,
    request: ({ token: bearer, headers, ...options }) =>
      app.inject({ ...options, headers: { ...(bearer ? { authorization: `Bearer ${bearer}` } : {}), ...headers } }),
    close: async () => {
      await app.close();
      // A test may have closed the runtime itself (to simulate a lost database).
      await runtime.close().catch(() => undefined);
      await database.drop();
    },
  };
}

/**
 * The usual set-up of an API test file: one app on a fresh database before its tests, closed
 * (and the database dropped) after them. `ready` receives the app and an admin token.
 */
export function useTestApp(ready: (app: TestApp, adminToken: string) => void, env: Record<string, string> = {}): void {
  let app: TestApp | undefined;
  beforeAll(async () => {
    app = await createTestApp(env);
    ready(app, await app.adminToken());
  });
  afterAll(async () => {
    await app?.close();
  });
}

/** What an API test file works with: its app, an admin token, and unique names. */
export interface ApiSuite {
  readonly t: TestApp;
  readonly token: string;
  /** A name no other test of the file (or an earlier run) uses: `<prefix>-<n>-<time>`. */
  unique(prefix: string): string;
  /** `t.request` as the admin unless the options name another token. */
  request(options: InjectOptions & { token?: string }): Promise<LightMyRequestResponse>;
}

/** `useTestApp` plus the admin token and a unique-name helper, for files that need nothing else. */
export function useApiSuite(env: Record<string, string> = {}): ApiSuite {
  let app: TestApp | undefined;
  let admin: string | undefined;
  let seq = 0;
  useTestApp((ready, adminToken) => {
    app = ready;
    admin = adminToken;
  }, env);
  return {
    get t() {
      if (!app) throw new Error('the test app is not ready yet (use it inside a test)');
      return app;
    },
    get token() {
      if (admin === undefined) throw new Error('the test app is not ready yet (use it inside a test)');
      return admin;
    },
    unique: (prefix) => `${prefix}-${++seq}-${Date.now().toString(36)}`,
    request(options) {
      return this.t.request({ token: this.token, ...options });
    },
  };
}
