import { Migrator, sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { systemPrincipal, type Principal } from '../../src/domain/principal.js';
import type { UserInput } from '../../src/domain/user.js';
import { systemClock } from '../../src/lib/clock.js';
import { newId } from '../../src/lib/ids.js';
import { openDatabase } from '../../src/db/database.js';
import { foundationMigration } from '../../src/db/migrations/0001-foundation.js';
import { directoryMigration } from '../../src/db/migrations/0002-directory.js';
import { eventPositionsMigration } from '../../src/db/migrations/0005-event-positions.js';
import { createStore, type Repositories } from '../../src/repositories/store.js';
import { newEvent } from '../../src/services/event-factory.js';
import { buildUser } from '../../src/services/user-rules.js';
import { createTestDatabase, testDialect } from '../helpers/test-database.js';
import { useTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * The feed's durable-cursor guarantee: a reader that has seen every event up to position P never
 * later finds a newly committed event at or below P, however transactions interleave.
 */
let t: TestApp;
useTestApp((app) => {
  t = app;
});

const onPostgres = testDialect() === 'postgres';
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** A tenant of its own per test, so each test reads a feed only it writes to. */
async function freshTenant(): Promise<Principal> {
  const id = `order-${newId().slice(-12)}`;
  await t.runtime.services.tenants.create(systemPrincipal('default', 'test'), { id, name: id });
  return systemPrincipal(id, 'event-order-test');
}

/** A unit of work like every service's: a change, then its event; `label` becomes the resource id. */
interface WriteSteps {
  beforeEvent?: (repos: Repositories) => Promise<void>;
  afterEvent?: () => Promise<void>;
  fail?: boolean;
}

function write(principal: Principal, label: string, steps: WriteSteps = {}) {
  return t.runtime.services.store.transaction(async (repos) => {
    await steps.beforeEvent?.(repos);
    await repos.events.append([newEvent(principal, systemClock, 'user.updated', 'user', label, {})]);
    await steps.afterEvent?.();
    if (steps.fail) throw new Error(`${label} rolls back`);
    return label;
  });
}

/** Every event after `position`, following the feed page by page; returns them and the new cursor position. */
async function readAfter(principal: Principal, position: number, limit = 5): Promise<{ labels: string[]; positions: number[]; last: number }> {
  const labels: string[] = [];
  const positions: number[] = [];
  let last = position;
  for (;;) {
    const page = await t.runtime.services.events.list(principal, { limit, after: last });
    for (const event of page.items) {
      labels.push(event.resourceId);
      positions.push(event.position);
      last = event.position;
    }
    if (page.nextCursor === null) return { labels, positions, last };
  }
}

describe('event positions follow commit order', () => {
  // PostgreSQL only: SQLite has one writer, so nothing there commits out of order. CI runs this
  // file on both databases (vitest.config.ts refuses CI without PostgreSQL), so it always runs there.
  it.skipIf(!onPostgres)('a transaction that wrote first but commits last still appears after everything already read', async () => {
    const principal = await freshTenant();
    const aWrote = deferred();
    const releaseA = deferred();
    const a = write(principal, 'A', {
      beforeEvent: async (repos) => {
        const now = systemClock.now().toISOString();
        const base = { id: newId(), tenantId: principal.tenantId, createdAt: now, version: 1, status: 'active' as const, lastLoginAt: null, provisionedBy: null };
        await repos.users.insert(buildUser(base, { userName: 'a' } as UserInput, now));
      },
      afterEvent: async () => {
        aWrote.resolve();
        await releaseA.promise;
      },
    });
    await aWrote.promise;
    // B starts after A has written its change and its event, and commits while A is still open.
    await write(principal, 'B');
    const seen = await readAfter(principal, 0);
    expect(seen.labels).toEqual(['B']);

    releaseA.resolve();
    await a;
    const next = await readAfter(principal, seen.last);
    expect(next.labels).toEqual(['A']);
    expect(next.positions[0]).toBeGreaterThan(seen.last);
  });

  // PostgreSQL only: it holds a transaction inside COMMIT with a deferred trigger; SQLite has one
  // writer and no such triggers. CI runs this file on both databases, so each case runs once.
  it.skipIf(!onPostgres)('a later writer cannot overtake a transaction that is inside its COMMIT (PostgreSQL only)', async () => {
    const principal = await freshTenant();
    const db = t.runtime.database.db;
    // Makes A's COMMIT slow AFTER its event rows (and their positions) are written: a deferred
    // trigger runs inside COMMIT. This is exactly where positions taken at insert time go wrong.
    await sql`create or replace function test_slow_commit() returns trigger language plpgsql as $$
      begin if new.resource_id = 'A' and new.tenant_id = ${sql.lit(principal.tenantId)} then perform pg_sleep(0.8); end if; return null; end $$`.execute(db);
    await sql`create constraint trigger test_slow_commit after insert on events
      deferrable initially deferred for each row execute function test_slow_commit()`.execute(db);
    try {
      const committed: string[] = [];
      const a = write(principal, 'A').then((label) => committed.push(label));
      const sleepingInCommit = async () => {
        const found = await sql<{ n: number }>`
          select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event = 'PgSleep'`.execute(db);
        return found.rows[0]?.n;
      };
      while ((await sleepingInCommit()) !== 1) await sleep(5);
      const b = write(principal, 'B').then((label) => committed.push(label));
      const reads: string[][] = [];
      let last = 0;
      while (committed.length < 2) {
        const got = await readAfter(principal, last);
        reads.push(got.labels);
        last = got.last;
        await sleep(20);
      }
      await Promise.all([a, b]);
      reads.push((await readAfter(principal, last)).labels);
      expect(committed).toEqual(['A', 'B']);
      expect(reads.flat()).toEqual(['A', 'B']);
    } finally {
      await sql`drop trigger test_slow_commit on events`.execute(db);
    }
  });

  it('a reader polling with after cursors sees every committed event exactly once, in position order, and no rolled-back one', async () => {
    const principal = await freshTenant();
    const db = t.runtime.database.db;
    // On PostgreSQL every COMMIT of this tenant's events also waits a random 0–30 ms after the rows
    // are written (a deferred trigger), like a slow disk would: commits then finish in any order.
    if (onPostgres) {
      await sql`create or replace function test_commit_jitter() returns trigger language plpgsql as $$
        begin if new.tenant_id = ${sql.lit(principal.tenantId)} then perform pg_sleep(random() * 0.03); end if; return null; end $$`.execute(db);
      await sql`create constraint trigger test_commit_jitter after insert on events
        deferrable initially deferred for each row execute function test_commit_jitter()`.execute(db);
    }
    const writers = 60;
    let done = false;
    const random = (max: number) => Math.floor(Math.random() * max);
    const results = Promise.allSettled(
      Array.from({ length: writers }, async (_, i) => {
        await sleep(random(300));
        return write(principal, `w${i}`, { beforeEvent: () => sleep(random(8)), afterEvent: () => sleep(random(8)), fail: i % 5 === 4 });
      }),
    ).finally(() => (done = true));

    const seen: string[] = [];
    const positions: number[] = [];
    let last = 0;
    while (!done) {
      const got = await readAfter(principal, last, 3);
      seen.push(...got.labels);
      positions.push(...got.positions);
      last = got.last;
      await sleep(random(5));
    }
    const final = await readAfter(principal, last, 3);
    seen.push(...final.labels);
    positions.push(...final.positions);

    if (onPostgres) await sql`drop trigger test_commit_jitter on events`.execute(db);

    const committed = (await results).flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    expect(committed.length).toBe(writers - writers / 5);
    expect([...seen].sort()).toEqual([...committed].sort());
    expect(new Set(seen).size).toBe(seen.length);
    expect(positions).toEqual([...positions].sort((x, y) => x - y));
    expect(new Set(positions).size).toBe(positions.length);
  });

  // SQLite only: PostgreSQL has no group commit. CI runs the sqlite project too, so it always runs.
  it.skipIf(onPostgres)('units sharing one SQLite group commit get positions in the order they ran, with no hole for a failed one', async () => {
    const principal = await freshTenant();
    const ran: string[] = [];
    const units = Array.from({ length: 30 }, (_, i) =>
      write(principal, `u${i}`, {
        beforeEvent: async () => {
          ran.push(`u${i}`);
        },
        fail: i === 13,
      }),
    );
    const results = await Promise.allSettled(units);
    expect(results.filter((r) => r.status === 'rejected').length).toBe(1);
    const feed = await readAfter(principal, 0, 100);
    expect(feed.labels).toEqual(ran.filter((label) => label !== 'u13'));
    expect(feed.positions).toEqual(Array.from({ length: 29 }, (_, i) => i + 1));
  });
});

describe('migration 0005-event-positions', () => {
  it('numbers existing events per tenant in id order, and new events continue after them', async () => {
    const target = await createTestDatabase();
    const database = openDatabase(target.url);
    try {
      const dialect = database.dialect;
      const all = {
        '0001-foundation': foundationMigration(dialect),
        '0002-directory': directoryMigration(dialect),
        '0005-event-positions': eventPositionsMigration(dialect),
      };
      const migrate = async (names: (keyof typeof all)[]) => {
        const migrations = Object.fromEntries(names.map((name) => [name, all[name]]));
        const result = await new Migrator({ db: database.db, provider: { getMigrations: async () => migrations } }).migrateToLatest();
        if (result.error) throw result.error;
      };
      await migrate(['0001-foundation', '0002-directory']);
      const now = new Date().toISOString();
      await sql`insert into tenants (id, name, created_at, updated_at) values ('t1', 't1', ${now}, ${now}), ('t2', 't2', ${now}, ${now})`.execute(database.db);
      // Written newest id first, so the physical order is the reverse of the id order.
      const ids = Array.from({ length: 5 }, () => newId()).sort();
      for (const [i, id] of [...ids.entries()].reverse()) {
        const tenant = i % 2 === 0 ? 't1' : 't2';
        await sql`insert into events (id, tenant_id, type, actor_type, actor_id, resource_type, resource_id, occurred_at, changes)
          values (${id}, ${tenant}, 'user.updated', 'system', 'test', 'user', ${`old${i}`}, ${now}, '{}')`.execute(database.db);
      }
      await migrate(['0001-foundation', '0002-directory', '0005-event-positions']);

      const rows = await database.db
        .selectFrom('events')
        .select(['tenant_id', 'resource_id', 'position', 'context'])
        .orderBy('tenant_id')
        .orderBy('position')
        .execute();
      expect(rows.map((r) => [r.tenant_id, r.resource_id, Number(r.position), r.context])).toEqual([
        ['t1', 'old0', 1, null],
        ['t1', 'old2', 2, null],
        ['t1', 'old4', 3, null],
        ['t2', 'old1', 1, null],
        ['t2', 'old3', 2, null],
      ]);
      const event = newEvent(systemPrincipal('t1', 'test'), systemClock, 'user.updated', 'user', 'new', {});
      await createStore(database).transaction((repos) => repos.events.append([event]));
      const [latest] = await createStore(database).repos.events.list({ tenantId: 't1', order: 'desc', limit: 1 });
      expect(latest).toMatchObject({ resourceId: 'new', position: 4 });
    } finally {
      await database.close();
      await target.drop();
    }
  });
});
