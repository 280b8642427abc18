import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { openDatabase } from '../../src/db/database.js';
import { bulkChunkRows } from '../../src/services/bulk-service.js';
import { testDialect } from '../helpers/test-database.js';

/** The rows of one unit of work of a bulk write on this database. */
const BULK_CHUNK_ROWS = bulkChunkRows(testDialect());
import { createTestDatabase } from '../helpers/test-database.js';

/**
 * Issue 9, "Reliability": a real server process killed with SIGKILL in the middle of a bulk
 * upsert, or of a sync run's apply job, leaves every chunk (100 rows on SQLite, 250 on PostgreSQL) applied whole or not at all,
 * and repeating the call (same Idempotency-Key) or letting the job be retried finishes the work
 * with no duplicate user and one `user.created` event per user. Each test gets its own database
 * (SQLite file or PostgreSQL database) and checks it directly, as test/api/crash.test.ts does.
 */

/**
 * Each test starts `roster serve` twice (tsx compiles the sources on every start: 3–5 s on an idle
 * 2-core machine, 15–25 s when it is busy) and writes 10,000–20,000 users: generous limits.
 */
const TEST_TIMEOUT_MS = 240_000;

type Db = ReturnType<typeof openDatabase>['db'];

const CLIENT_ID = 'bulk-crash-admin';
const CLIENT_SECRET = 'bulk-crash-admin-secret-0000';

interface Server {
  process: ChildProcess;
  base: string;
  token: string;
  /** Resolves once the process has exited (after a kill). */
  exited: Promise<void>;
}

async function until<T>(probe: () => Promise<T | undefined>, ms = 30_000, everyMs = 100): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error('timed out');
    await sleep(everyMs);
  }
}

/** Spawns `roster serve` on a free-looking port, waits until it is ready, and gets an admin token. */
async function startServer(databaseUrl: string, env: Record<string, string>): Promise<Server> {
  const port = 21_000 + Math.floor(Math.random() * 2000);
  const base = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve'], {
    env: { ...process.env, PORT: String(port), DATABASE_URL: databaseUrl, LOG_LEVEL: 'silent', ROSTER_ADMIN_CLIENT_ID: CLIENT_ID, ROSTER_ADMIN_CLIENT_SECRET: CLIENT_SECRET, ...env },
    stdio: 'ignore',
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await until(async () => ((await fetch(`${base}/readyz`)).ok ? true : undefined), 60_000);
    const token = await until(async () => {
      const res = await fetch(`${base}/v1/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: CLIENT_SECRET }),
      });
      return res.ok ? ((await res.json()) as { access_token: string }).access_token : undefined;
    });
    return { process: child, base, token, exited };
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
}

/** SIGKILL (no shutdown hook runs), then waits until the process is gone and its connections closed. */
async function kill(server: Server, db: Db, dialect: 'sqlite' | 'postgres'): Promise<void> {
  server.process.kill('SIGKILL');
  await server.exited;
  if (dialect === 'postgres') {
    // The server's sessions end when PostgreSQL sees their sockets close (an open transaction is
    // rolled back then); read the database only once nothing but this connection is left.
    await until(async () => {
      const r = await sql<{ n: number }>`select count(*) as n from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`.execute(db);
      return Number(r.rows[0]?.n) === 0 ? true : undefined;
    });
  }
}

async function call(server: Server, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${server.base}${path}`, {
    method,
    headers: { authorization: `Bearer ${server.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

/** The users holding an external id of `origin`: user id, key and userName. */
async function usersOfOrigin(db: Db, origin: string): Promise<{ id: string; key: string; userName: string }[]> {
  return db
    .selectFrom('user_external_ids as x')
    .innerJoin('users as u', 'u.id', 'x.user_id')
    .select(['u.id as id', 'x.key as key', 'u.user_name as userName'])
    .where('x.origin', '=', origin)
    .execute();
}

/** Every user whose userName has `prefix`, with its external id of `origin` (null when it has none). */
async function usersNamed(db: Db, prefix: string, origin: string): Promise<{ id: string; userName: string; key: string | null }[]> {
  return db
    .selectFrom('users as u')
    .leftJoin('user_external_ids as x', (j) => j.onRef('x.user_id', '=', 'u.id').on('x.origin', '=', origin))
    .select(['u.id as id', 'u.user_name as userName', 'x.key as key'])
    .where('u.user_name', 'like', `${prefix}%`)
    .execute();
}

/** `user.created` events per user id, with their context. */
async function createdEvents(db: Db): Promise<Map<string, { context: Record<string, unknown> | null }[]>> {
  const rows = await db.selectFrom('events').select(['resource_id', 'context']).where('type', '=', 'user.created').execute();
  const byUser = new Map<string, { context: Record<string, unknown> | null }[]>();
  for (const row of rows) {
    const context = (typeof row.context === 'string' ? JSON.parse(row.context) : row.context) as Record<string, unknown> | null;
    byUser.set(row.resource_id, [...(byUser.get(row.resource_id) ?? []), { context }]);
  }
  return byUser;
}

/** (origin, key) pairs held by more than one row, keys compared as external ids are (case-insensitively). */
async function duplicateKeys(db: Db, origin: string): Promise<string[]> {
  const rows = await db
    .selectFrom('user_external_ids')
    .select([sql<string>`lower(key)`.as('k'), sql<number>`count(*)`.as('n')])
    .where('origin', '=', origin)
    .groupBy(sql`lower(key)`)
    .having(sql`count(*)`, '>', 1)
    .execute();
  return rows.map((r) => r.k);
}

/**
 * Every user has its external id of `origin` and exactly one `user.created` event, and there is
 * no `user.created` event of a user that is not stored (a half-written chunk would show as either).
 */
async function expectWholeUsers(db: Db, prefix: string, origin: string): Promise<{ id: string; key: string }[]> {
  const users = await usersNamed(db, prefix, origin);
  for (const u of users) {
    expect(u.key, `user ${u.userName} has no external id of ${origin}`).not.toBeNull();
    expect(u.userName).toBe(`${prefix}${u.key}`);
  }
  const events = await createdEvents(db);
  const ids = new Set(users.map((u) => u.id));
  for (const u of users) expect(events.get(u.id)?.length ?? 0, `user.created events of ${u.userName}`).toBe(1);
  for (const id of events.keys()) expect(ids.has(id), `a user.created event of user ${id}, which is not stored`).toBe(true);
  expect(await usersOfOrigin(db, origin)).toHaveLength(users.length);
  return users.map((u) => ({ id: u.id, key: u.key as string }));
}

describe('a server killed with SIGKILL', () => {
  it('in the middle of a 10,000-row bulk upsert: whole chunks only; the same call with the same Idempotency-Key finishes it without duplicates', async () => {
    const database = await createTestDatabase();
    const dialect = database.url.startsWith('sqlite:') ? 'sqlite' : 'postgres';
    const env = { IDEMPOTENCY_ABANDONED_SECONDS: '2' };
    const origin = 'hr';
    const prefix = 'bulk-crash-';
    const body = { origin, mode: 'upsert', users: Array.from({ length: 10_000 }, (_, i) => ({ key: `k${i}`, userName: `${prefix}k${i}` })) };
    const headers = { 'idempotency-key': 'bulk-crash-load-1' };
    let server = await startServer(database.url, env);
    const { db, close } = openDatabase(database.url, { poolSize: 1 });
    try {
      const first = call(server, 'POST', '/v1/users/bulk', body, headers).then(
        (res) => res.status,
        () => 'connection lost' as const,
      );
      // Poll as fast as the database answers: the whole call takes about a second.
      await until(async () => {
        const n = await db.selectFrom('user_external_ids').select(sql<number>`count(*)`.as('n')).where('origin', '=', origin).executeTakeFirstOrThrow();
        return Number(n.n) >= 1 ? true : undefined;
      }, 30_000, 1);
      await kill(server, db, dialect);
      const killedAt = Date.now();
      expect(await first).toBe('connection lost');

      const committed = await expectWholeUsers(db, prefix, origin);
      expect(committed.length, 'the kill came after the call had finished: nothing was tested').toBeLessThan(10_000);
      expect(committed.length).toBeGreaterThan(0);
      expect(committed.length % BULK_CHUNK_ROWS, `${committed.length} users: not whole chunks of ${BULK_CHUNK_ROWS}`).toBe(0);

      server = await startServer(database.url, env);
      // The dead request claimed the key before the kill; the claim counts as abandoned once it is
      // older than IDEMPOTENCY_ABANDONED_SECONDS (2 s). Restarting usually took longer already.
      await sleep(Math.max(0, killedAt + 2500 - Date.now()));
      const res = await call(server, 'POST', '/v1/users/bulk', body, headers);
      const text = await res.text();
      expect(res.status, text).toBe(200);
      const answer = JSON.parse(text) as { added: number; updated: number; unchanged: number; errors: number; users: { key: string; id: string; status: string }[] };
      expect(res.headers.get('idempotent-replayed')).toBeNull();
      expect(answer).toMatchObject({ added: 10_000 - committed.length, updated: 0, unchanged: committed.length, errors: 0 });
      const unchangedKeys = answer.users.filter((u) => u.status === 'unchanged').map((u) => u.key).sort();
      expect(unchangedKeys, 'rows answered unchanged are exactly those the killed call had committed').toEqual(committed.map((u) => u.key).sort());
      const committedIds = new Map(committed.map((u) => [u.key, u.id]));
      for (const row of answer.users.filter((u) => u.status === 'unchanged')) expect(row.id).toBe(committedIds.get(row.key));

      const all = await expectWholeUsers(db, prefix, origin);
      expect(all).toHaveLength(10_000);
      expect(new Set(all.map((u) => u.key))).toEqual(new Set(body.users.map((u) => u.key)));
      expect(await duplicateKeys(db, origin)).toEqual([]);

      // The key now holds the finished call's answer.
      const replay = await call(server, 'POST', '/v1/users/bulk', body, headers);
      expect(replay.status).toBe(200);
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
    } finally {
      server.process.kill('SIGKILL');
      await server.exited;
      await close();
      await database.drop();
    }
  }, TEST_TIMEOUT_MS);

  it('in the middle of a 20,000-row sync apply: each item outcome commits with its change; the retried job finishes the run without duplicates', async () => {
    const database = await createTestDatabase();
    const dialect = database.url.startsWith('sqlite:') ? 'sqlite' : 'postgres';
    const env = { JOB_CONCURRENCY: '1', JOB_LEASE_SECONDS: '5', JOB_POLL_MS: '100' };
    const origin = 'hr';
    const prefix = 'sync-crash-';
    const rows = Array.from({ length: 20_000 }, (_, i) => ({ key: `s${i}`, userName: `${prefix}s${i}` }));
    let server = await startServer(database.url, env);
    const { db, close } = openDatabase(database.url, { poolSize: 1 });
    try {
      const created = await call(server, 'POST', '/v1/sync-runs', { origin, staged: true });
      expect(created.status).toBe(201);
      const runId = ((await created.json()) as { id: string }).id;
      for (let i = 0; i < rows.length; i += 5000) {
        const res = await call(server, 'POST', `/v1/sync-runs/${runId}/users`, { users: rows.slice(i, i + 5000) });
        expect(res.status, await res.clone().text()).toBe(200);
        expect(((await res.json()) as { received: number }).received).toBe(i + 5000);
      }
      const planned = await call(server, 'POST', `/v1/sync-runs/${runId}/plan`);
      const plan = (await planned.json()) as { status: string; counts: Record<string, number> };
      expect(planned.status, JSON.stringify(plan)).toBe(200);
      expect(plan).toMatchObject({ status: 'planned', counts: { create: 20_000, update: 0, errors: 0 } });
      expect(await usersOfOrigin(db, origin)).toHaveLength(0);

      const applying = await call(server, 'POST', `/v1/sync-runs/${runId}/apply`);
      expect(applying.status).toBe(202);
      await until(async () => {
        const n = await db.selectFrom('sync_run_items').select(sql<number>`count(*)`.as('n')).where('run_id', '=', runId).where('outcome', 'is not', null).executeTakeFirstOrThrow();
        return Number(n.n) >= 1 ? true : undefined;
      }, 30_000, 1);
      await kill(server, db, dialect);

      const items = await db.selectFrom('sync_run_items').select(['key', 'action', 'outcome']).where('run_id', '=', runId).execute();
      expect(items).toHaveLength(20_000);
      const withOutcome = items.filter((i) => i.outcome !== null);
      expect(withOutcome.length, 'the kill came after the apply had finished: nothing was tested').toBeLessThan(20_000);
      expect(withOutcome.every((i) => i.action === 'create' && i.outcome === 'applied')).toBe(true);
      const users = await expectWholeUsers(db, prefix, origin);
      const userKeys = new Set(users.map((u) => u.key));
      const appliedKeys = new Set(withOutcome.map((i) => i.key));
      for (const item of withOutcome) expect(userKeys.has(item.key), `item ${item.key} is applied but its user was not created`).toBe(true);
      for (const key of userKeys) expect(appliedKeys.has(key), `user ${key} was created but its item has no outcome`).toBe(true);
      expect(withOutcome.length % BULK_CHUNK_ROWS, `${withOutcome.length} outcomes: not whole chunks of ${BULK_CHUNK_ROWS}`).toBe(0);

      server = await startServer(database.url, env);
      // The killed runner's lease expires (JOB_LEASE_SECONDS) and the restarted runner retries the job.
      const done = await until(async () => {
        const res = await call(server, 'GET', `/v1/sync-runs/${runId}`);
        const run = (await res.json()) as { status: string; applied: Record<string, number> | null };
        return run.status === 'applied' ? run : undefined;
      }, 120_000, 250);
      expect(done.applied).toEqual({ create: 20_000, update: 0, reactivate: 0, suspend: 0, failed: 0 });

      const all = await expectWholeUsers(db, prefix, origin);
      expect(all).toHaveLength(20_000);
      expect(new Set(all.map((u) => u.key))).toEqual(new Set(rows.map((r) => r.key)));
      expect(await duplicateKeys(db, origin)).toEqual([]);
      // Every event the run wrote (on any of its users, by either attempt) names the run.
      const userEvents = await db.selectFrom('events').select(['resource_id', 'type', 'context']).where('resource_type', '=', 'user').execute();
      expect(userEvents).toHaveLength(20_000);
      for (const e of userEvents) {
        const context = (typeof e.context === 'string' ? JSON.parse(e.context) : e.context) as { syncRunId?: string } | null;
        expect(context?.syncRunId, `${e.type} of user ${e.resource_id}`).toBe(runId);
      }
      const after = await db.selectFrom('sync_run_items').select(sql<number>`count(*)`.as('n')).where('run_id', '=', runId).where('outcome', '=', 'applied').executeTakeFirstOrThrow();
      expect(Number(after.n)).toBe(20_000);
    } finally {
      server.process.kill('SIGKILL');
      await server.exited;
      await close();
      await database.drop();
    }
  }, TEST_TIMEOUT_MS);
});
