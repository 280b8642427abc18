import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../db/database.js';
import type { DB } from '../db/schema.js';

/**
 * What a named lock guards. Each is a read-check-write whose check reads rows other than the one
 * being written, so a row lock on the written row cannot make it safe:
 * - `reporting-lines`: a user's manager must not report to the user (the check walks the chain);
 * - `tree:<kind>`: a record's parent must not be below it (the check walks the ancestors);
 * - `signing-keys`: one active signing key (a rotation reads the active key, then retires it);
 * - `bootstrap`: the first start creates one admin client (it reads whether one exists);
 * - `attribute-definitions`: a user write checks attributes against the tenant's definitions
 *   (shared: user writes do not wait for each other), a definition write changes them
 *   (exclusive): no user write commits after a definition change having checked the old rules.
 */
export type LockTopic = 'reporting-lines' | `tree:${string}` | 'signing-keys' | 'bootstrap' | 'attribute-definitions';

/**
 * Named locks held until the current transaction ends: writers of the same topic (in a tenant)
 * run their check-and-write one after another. PostgreSQL: a transaction-scoped advisory lock
 * (`pg_advisory_xact_lock` on a 64-bit hash of the name; a hash collision only makes two topics
 * wait for each other). SQLite runs one write transaction at a time, so the transaction already
 * is the lock and this does nothing.
 *
 * Use it only inside a transaction (`store.transaction`, a unit of work): outside one, the lock
 * would be released as soon as the statement ends. Take it before reading what the check reads.
 */
export class LockRepository {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly dialect: Dialect,
  ) {}

  /** Waits for and takes the lock of `topic` (in `tenantId`, or installation-wide with null). */
  async acquire(tenantId: string | null, topic: LockTopic): Promise<void> {
    if (this.dialect === 'sqlite') return;
    const name = `${tenantId ?? '*'}:${topic}`;
    await sql`select pg_advisory_xact_lock(hashtextextended(${name}, 0))`.execute(this.db);
  }

  /**
   * The shared form: holders of the shared lock run together; `acquire` of the same topic waits
   * for all of them, and they for it (`pg_advisory_xact_lock_shared`). Take it before the read
   * the check depends on: under READ COMMITTED the next statement then sees the writer's commit.
   */
  async acquireShared(tenantId: string | null, topic: LockTopic): Promise<void> {
    if (this.dialect === 'sqlite') return;
    const name = `${tenantId ?? '*'}:${topic}`;
    await sql`select pg_advisory_xact_lock_shared(hashtextextended(${name}, 0))`.execute(this.db);
  }
}
