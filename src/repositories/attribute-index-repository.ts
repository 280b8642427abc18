import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../db/database.js';
import type { DB } from '../db/schema.js';
import { toDbBool } from '../db/booleans.js';
import { ATTRIBUTE_TYPES } from '../domain/directory.js';
import { jsonKeyOperand } from '../filter/filter-operands.js';
import { SEGMENT } from '../filter/literal-validators.js';
import { USER_ATTRIBUTES_COLUMN } from './user-query.js';

/** How long a sync waits for another process's sync of the same index (builds can take a while). */
const INDEX_LOCK_WAIT_MS = 10 * 60_000;

/** The SQL type an attribute compares as (dates and enums compare as text). */
export type IndexedAttributeType = 'string' | 'number' | 'boolean';

/** Definition types that compare as each index type: one index serves all of them. */
const DEFINITION_TYPES: Record<IndexedAttributeType, readonly string[]> = {
  string: ATTRIBUTE_TYPES.filter((t) => t !== 'number' && t !== 'boolean'),
  number: ['number'],
  boolean: ['boolean'],
};

/**
 * Expression indexes that keep `attributes/<name> eq …` index-fast. The indexed expression is
 * produced by the very function the filter compiler uses for that comparison (jsonKeyOperand),
 * so the planner sees the same expression in the index and in the query:
 *
 *   SQLite:      (tenant_id, (case when json_type(attributes, '$.name') in ('text') then json_extract(attributes, '$.name') end))
 *   PostgreSQL:  (tenant_id, (case when jsonb_typeof((attributes -> 'name')) = 'string' then (attributes ->> 'name') collate "C" end))
 *
 * led by tenant_id like every users index, except text on PostgreSQL: a b-tree entry there holds at
 * most about 2,700 bytes, so a long value (in any tenant: indexes are shared) would become
 * unstorable. Text attributes get a HASH index of the expression instead (4-byte hash codes, any
 * value length, equality only, which is what the index is for). The column is unqualified here (SQLite forbids
 * "users"."attributes" in an index); both planners resolve the qualified reference in queries to
 * the same column. Indexes are shared by every tenant that declares the same name and type.
 *
 * DDL runs outside any request transaction (see DirectoryService): on SQLite the transaction
 * holds the only connection, and on PostgreSQL the index is built CONCURRENTLY, which cannot
 * run in a transaction and does not block writes to users while it builds.
 */
export class AttributeIndexRepository {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly dialect: Dialect,
  ) {}

  /**
   * The index name: readable prefix plus a hash of the exact attribute name, because names are
   * case-sensitive (shoeSize and ShoeSize are two attributes) but SQLite index names are not,
   * and PostgreSQL cuts identifiers at 63 bytes. At most 63 characters.
   */
  static indexName(attribute: string, type: IndexedAttributeType): string {
    const hash = createHash('sha256').update(attribute).digest('hex').slice(0, 8);
    return `users_attr_${attribute.toLowerCase().slice(0, 32)}_${type}_${hash}`;
  }

  /** The indexed expression for an attribute, exactly as the filter compiler writes it. */
  expression(attribute: string, type: IndexedAttributeType) {
    checkName(attribute);
    return jsonKeyOperand(`attributes/${attribute}`, USER_ATTRIBUTES_COLUMN.split('.')[1] as string, attribute, type, this.dialect).expr;
  }

  /**
   * Creates the index unless it exists; returns true when this call created it. On PostgreSQL an
   * invalid index (a failed or interrupted CONCURRENTLY build) or one of the wrong kind (a text
   * b-tree from an older release) is replaced. A build that fails leaves no index behind: the
   * error is thrown after the remains are dropped.
   */
  async ensure(attribute: string, type: IndexedAttributeType): Promise<boolean> {
    const name = AttributeIndexRepository.indexName(attribute, type);
    const expr = this.expression(attribute, type);
    return this.exclusively(name, async (db) => {
      if (this.dialect === 'sqlite') {
        const exists = await sql<{ name: string }>`select name from sqlite_master where type = 'index' and name = ${name}`.execute(db);
        if (exists.rows.length > 0) return false;
        await sql`create index if not exists ${sql.id(name)} on users (tenant_id, (${expr}))`.execute(db);
        return true;
      }
      const method = type === 'string' ? 'hash' : 'btree';
      const state = await this.postgresIndexState(db, name, method);
      if (state === 'valid') return false;
      // IF NOT EXISTS would keep an invalid index or one of the wrong kind.
      if (state === 'invalid') await sql`drop index concurrently if exists ${sql.id(name)}`.execute(db);
      const columns = method === 'hash' ? sql`using hash ((${expr}))` : sql`(tenant_id, (${expr}))`;
      try {
        await sql`create index concurrently if not exists ${sql.id(name)} on users ${columns}`.execute(db);
      } catch (error) {
        await sql`drop index concurrently if exists ${sql.id(name)}`.execute(db).catch(() => undefined);
        throw error;
      }
      // IF NOT EXISTS only warns when another relation holds the name: that is no index.
      if ((await this.postgresIndexState(db, name, method)) !== 'valid') throw new Error(`Index ${name} was not built: the name is held by another relation.`);
      return true;
    });
  }

  /** Drops the index unless an indexed definition of any tenant still wants it. */
  async dropUnlessUsed(attribute: string, type: IndexedAttributeType): Promise<void> {
    const name = AttributeIndexRepository.indexName(attribute, type);
    await this.exclusively(name, async (db) => {
      if (await this.isWanted(db, attribute, type)) return;
      if (this.dialect === 'sqlite') await sql`drop index if exists ${sql.id(name)}`.execute(db);
      else await sql`drop index concurrently if exists ${sql.id(name)}`.execute(db);
    });
  }

  /**
   * Runs `work` on one connection while no other process syncs the same index. Definitions of
   * several tenants share an index: without this, one tenant's "nobody wants it any more, drop"
   * could run after another tenant's definition committed and its "it exists, done", leaving that
   * definition indexed without an index. SQLite: the one connection, held for the whole of
   * `work`, is the lock. PostgreSQL: a session advisory lock, taken by polling with
   * pg_try_advisory_lock (a session blocked inside pg_advisory_lock holds a snapshot, which a
   * CREATE INDEX CONCURRENTLY of the holder would wait for: a deadlock).
   */
  private async exclusively<T>(name: string, work: (db: Kysely<DB>) => Promise<T>): Promise<T> {
    return this.db.connection().execute(async (db) => {
      if (this.dialect === 'sqlite') return work(db);
      const key = sql`hashtextextended(${`attribute-index:${name}`}, 0)`;
      const deadline = Date.now() + INDEX_LOCK_WAIT_MS;
      for (;;) {
        const { rows } = await sql<{ locked: boolean }>`select pg_try_advisory_lock(${key}) as locked`.execute(db);
        if (rows[0]?.locked) break;
        if (Date.now() > deadline) throw new Error(`attribute index ${name} is being changed by another process for too long`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      try {
        return await work(db);
      } finally {
        await sql`select pg_advisory_unlock(${key})`.execute(db);
      }
    });
  }

  private async isWanted(db: Kysely<DB>, attribute: string, type: IndexedAttributeType): Promise<boolean> {
    const wanted = await db
      .selectFrom('attribute_definitions')
      .select('id')
      .where('name', '=', attribute)
      .where('type', 'in', [...DEFINITION_TYPES[type]])
      .where('indexed', '=', toDbBool(this.dialect, true))
      .where('multi_valued', '=', toDbBool(this.dialect, false))
      .limit(1)
      .executeTakeFirst();
    return wanted !== undefined;
  }

  /** Names of the attribute indexes on users (for diagnostics and tests). */
  async list(): Promise<string[]> {
    const result =
      this.dialect === 'sqlite'
        ? await sql<{ name: string }>`select name from sqlite_master where type = 'index' and tbl_name = 'users' and name like 'users_attr_%' order by name`.execute(this.db)
        : await sql<{ name: string }>`select indexname as name from pg_indexes where schemaname = current_schema() and tablename = 'users' and indexname like 'users_attr_%' order by indexname`.execute(this.db);
    return result.rows.map((r) => r.name);
  }

  /** 'invalid' also for an index of another access method than `method`, so it gets replaced. */
  private async postgresIndexState(db: Kysely<DB>, name: string, method: 'hash' | 'btree'): Promise<'missing' | 'valid' | 'invalid'> {
    const result = await sql<{ valid: boolean; method: string }>`
      select i.indisvalid as valid, a.amname as method from pg_class c
      join pg_index i on i.indexrelid = c.oid
      join pg_am a on a.oid = c.relam
      join pg_namespace n on n.oid = c.relnamespace
      where c.relname = ${name} and n.nspname = current_schema()`.execute(db);
    const row = result.rows[0];
    if (!row) return 'missing';
    return row.valid && row.method === method ? 'valid' : 'invalid';
  }
}

/** The name is inlined into DDL as a literal: only the definition pattern may pass. */
function checkName(attribute: string): void {
  // Definitions are validated by the same pattern, so this only guards against a programming error.
  if (!SEGMENT.test(attribute)) throw new Error(`Cannot index attribute ${JSON.stringify(attribute)}: not a valid attribute name.`);
}
