import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../db/database.js';
import type { DB } from '../db/schema.js';
import { fromDbBool, toDbBool } from '../db/booleans.js';
import { parseJson, toJson } from '../db/json-columns.js';
import type { DirectoryDefinition, DirectoryRecord } from '../domain/directory.js';
import type { ExternalId } from '../domain/user.js';
import { identifierKey } from '../domain/identifier-key.js';
import type { ListQuery } from '../domain/list-query.js';
import type { ErrorCode } from '../errors/error-codes.js';
import { fetchPage, type PageOf } from './keyset-page.js';
import { directoryQuerySchema } from './directory-query.js';
import { namingValues, takenError } from '../db/constraint-errors.js';
import { firstTaken, insertValues } from './insert-values.js';

export type DirectoryListQuery = ListQuery;

export type DirectoryPage = PageOf<DirectoryRecord>;

type Row = Record<string, unknown>;
const MAX_TREE_DEPTH = 1000;

/**
 * One repository for every directory kind: the definition names the table and columns. Table
 * names come from code (DIRECTORY), never from input, so the dynamic parts are safe.
 */
export class DirectoryRepository {
  // Kysely's types follow static table names; this repository's tables come from definitions.
  private readonly any: Kysely<Record<string, Row>>;

  constructor(
    db: Kysely<DB>,
    private readonly dialect: Dialect,
  ) {
    this.any = db as unknown as Kysely<Record<string, Row>>;
  }

  async findById(def: DirectoryDefinition, tenantId: string, id: string): Promise<DirectoryRecord | undefined> {
    const row = await this.any.selectFrom(def.table).selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
    return row && this.toRecord(def, row);
  }

  /**
   * The record, locked until the transaction ends on PostgreSQL (a read-check-write of one
   * record). As for users (UserRepository.findByIdForUpdate): an update takes FOR NO KEY UPDATE,
   * so rows referencing the record (children, members) can be written meanwhile and two records
   * made each other's parent do not deadlock; a delete takes FOR UPDATE and waits for them.
   */
  async findByIdForUpdate(def: DirectoryDefinition, tenantId: string, id: string, intent: 'update' | 'delete' = 'update'): Promise<DirectoryRecord | undefined> {
    const row = await this.any
      .selectFrom(def.table)
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .$if(this.dialect === 'postgres', (q) => (intent === 'delete' ? q.forUpdate() : q.forNoKeyUpdate()))
      .executeTakeFirst();
    return row && this.toRecord(def, row);
  }

  /**
   * A new version (and updatedAt) for records whose members changed, so their ETag moves with
   * the membership. Ids are sorted so concurrent bumps lock rows in one order.
   */
  async bumpVersions(def: DirectoryDefinition, tenantId: string, ids: readonly string[], updatedAt: string): Promise<void> {
    if (ids.length === 0) return;
    await this.any
      .updateTable(def.table)
      .set((eb) => ({ version: eb(eb.ref('version'), '+', 1), updated_at: updatedAt }))
      .where('tenant_id', '=', tenantId)
      .where('id', 'in', [...new Set(ids)].sort())
      .execute();
  }

  async findByIds(def: DirectoryDefinition, tenantId: string, ids: readonly string[]): Promise<DirectoryRecord[]> {
    if (ids.length === 0) return [];
    const rows = await this.any.selectFrom(def.table).selectAll().where('tenant_id', '=', tenantId).where('id', 'in', [...ids]).execute();
    return rows.map((r) => this.toRecord(def, r));
  }

  /**
   * Every record of a kind in a tenant, by name, up to `limit` (for small configuration kinds
   * such as attribute definitions that a write needs in full).
   */
  async listAll(def: DirectoryDefinition, tenantId: string, limit: number): Promise<DirectoryRecord[]> {
    const rows = await this.any.selectFrom(def.table).selectAll().where('tenant_id', '=', tenantId).orderBy('name').orderBy('id').limit(limit).execute();
    return rows.map((r) => this.toRecord(def, r));
  }

  async list(def: DirectoryDefinition, tenantId: string, q: DirectoryListQuery): Promise<DirectoryPage> {
    return fetchPage(this.any as never, this.dialect, def.table, tenantId, directoryQuerySchema(def), q, (row) => this.toRecord(def, row));
  }

  async insert(def: DirectoryDefinition, record: DirectoryRecord): Promise<void> {
    await this.any.insertInto(def.table).values(this.toRow(def, record)).execute().catch(namingValues(record));
    await this.writeExternalIdLookups(def, record, false);
  }

  /** Optimistic concurrency, as for users: false when the stored version moved on. */
  async update(def: DirectoryDefinition, record: DirectoryRecord, expectedVersion: number): Promise<boolean> {
    const { id, tenant_id, created_at: _created, ...changes } = this.toRow(def, record);
    const result = await this.any
      .updateTable(def.table)
      .set(changes)
      .where('id', '=', id as string)
      .where('tenant_id', '=', tenant_id as string)
      .where('version', '=', expectedVersion)
      .executeTakeFirst()
      .catch(namingValues(record));
    if (result.numUpdatedRows === 0n) return false;
    await this.writeExternalIdLookups(def, record, true);
    return true;
  }

  async delete(def: DirectoryDefinition, tenantId: string, id: string): Promise<boolean> {
    const result = await this.any.deleteFrom(def.table).where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  /**
   * Which of `ids` are records of the kind in the tenant. With `lock` (a write is about to
   * reference them) the rows found are held FOR KEY SHARE until the transaction ends on
   * PostgreSQL: a concurrent delete waits for the write (and then sees the reference), or the
   * write sees the record gone; never a reference to a deleted record.
   */
  async existingIds(def: DirectoryDefinition, tenantId: string, ids: readonly string[], lock = false): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await this.any
      .selectFrom(def.table)
      .select('id')
      .where('tenant_id', '=', tenantId)
      .where('id', 'in', [...ids].sort())
      .$if(lock && this.dialect === 'postgres', (q) => q.forKeyShare())
      .execute();
    return new Set(rows.map((r) => r.id as string));
  }

  /**
   * Ids of the records whose comparison column (`name_lower`, `code_lower`: see
   * DirectoryField.lowerColumn) holds one of `keys` (already in comparison form), grouped by key:
   * names that are not unique (areas, positions) may find several. One query per 500 keys.
   */
  async idsByLowerColumn(def: DirectoryDefinition, tenantId: string, column: string, keys: readonly string[]): Promise<Map<string, string[]>> {
    const found = new Map<string, string[]>();
    const wanted = [...new Set(keys)];
    for (let i = 0; i < wanted.length; i += 500) {
      const rows = await this.any.selectFrom(def.table).select(['id', `${column} as lookup`]).where('tenant_id', '=', tenantId).where(column, 'in', wanted.slice(i, i + 500)).orderBy('id').execute();
      for (const row of rows) found.set(row.lookup as string, [...(found.get(row.lookup as string) ?? []), row.id as string]);
    }
    return found;
  }

  /**
   * Ids of the records holding the external ids `{origin, key}` (kinds with an external-id
   * lookup table: groups), by `origin\u0000key` in comparison form. Empty for other kinds.
   */
  async idsByExternalIds(def: DirectoryDefinition, tenantId: string, pairs: readonly ExternalId[]): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    const lookup = Object.values(def.fields).find((f) => f.type === 'externalIds' && f.lookupTable)?.lookupTable;
    if (!lookup) return found;
    const wanted = [...new Map(pairs.map((p) => [`${identifierKey(p.origin)}\u0000${identifierKey(p.key)}`, { origin: identifierKey(p.origin), key: identifierKey(p.key) }])).values()];
    for (let i = 0; i < wanted.length; i += 250) {
      const chunk = wanted.slice(i, i + 250);
      const rows = await this.any
        .selectFrom(lookup.table)
        .select(['origin', 'key', `${lookup.ownerColumn} as owner`])
        .where('tenant_id', '=', tenantId)
        .where((eb) => eb.or(chunk.map((p) => eb.and([eb('origin', '=', p.origin), eb('key', '=', p.key)]))))
        .execute();
      for (const row of rows) found.set(`${row.origin as string}\u0000${row.key as string}`, row.owner as string);
    }
    return found;
  }

  /** How many rows of `table` point at `id` through `column` (users of a position, children…). */
  async countReferences(table: string, column: string, tenantId: string, id: string): Promise<number> {
    const row = await this.any
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('tenant_id', '=', tenantId)
      .where(column, '=', id)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** The ids above `id` in its tree (parent, grandparent, …), in one recursive query. */
  async ancestorIds(def: DirectoryDefinition, tenantId: string, id: string): Promise<string[]> {
    const table = sql.table(def.table);
    const result = await sql<{ id: string }>`
      with recursive up(id, depth) as (
        select parent_id, 1 from ${table} where id = ${id} and tenant_id = ${tenantId} and parent_id is not null
        union all
        select t.parent_id, up.depth + 1 from ${table} t join up on t.id = up.id
        where t.tenant_id = ${tenantId} and t.parent_id is not null and up.depth < ${MAX_TREE_DEPTH}
      )
      select id from up`.execute(this.any);
    return result.rows.map((r) => r.id);
  }

  /**
   * Every record below `id` with its depth (1 = child), breadth first, each record once. Cycles
   * are refused on write, but should one exist in stored data (written before that check was
   * safe under concurrency), the walk still ends: it is bounded, each record is listed once at
   * its smallest depth, and `id` itself is never its own descendant.
   */
  async descendants(def: DirectoryDefinition, tenantId: string, id: string): Promise<{ record: DirectoryRecord; depth: number }[]> {
    const table = sql.table(def.table);
    const result = await sql<Row & { depth: number }>`
      with recursive down(id, depth) as (
        select id, 1 from ${table} where parent_id = ${id} and tenant_id = ${tenantId}
        union all
        select t.id, down.depth + 1 from ${table} t join down on t.parent_id = down.id
        where t.tenant_id = ${tenantId} and down.depth < ${MAX_TREE_DEPTH}
      ),
      best(id, depth) as (select id, min(depth) from down where id <> ${id} group by id)
      select t.*, best.depth as depth from best join ${table} t on t.id = best.id
      order by best.depth, t.name_lower, t.id`.execute(this.any);
    return result.rows.map((r) => ({ record: this.toRecord(def, r), depth: Number(r.depth) }));
  }

  /** The users with a row in `table` pointing at `id` through `column` (members, links), sorted. */
  async memberUserIds(table: string, column: string, tenantId: string, id: string): Promise<string[]> {
    const rows = await this.any.selectFrom(table).select('user_id').where('tenant_id', '=', tenantId).where(column, '=', id).orderBy('user_id').execute();
    return rows.map((r) => r.user_id as string);
  }

  /**
   * External ids also live in a lookup table whose primary key keeps each {origin, key} unique
   * in the tenant (the JSON copy on the row serves reads). `replace`: the record's ids changed.
   */
  private async writeExternalIdLookups(def: DirectoryDefinition, record: DirectoryRecord, replace: boolean): Promise<void> {
    for (const [name, f] of Object.entries(def.fields)) {
      if (f.type !== 'externalIds' || !f.lookupTable) continue;
      const { table, ownerColumn } = f.lookupTable;
      if (replace) await this.any.deleteFrom(table).where(ownerColumn, '=', record.id).execute();
      const externalIds = (record[name] as ExternalId[] | undefined) ?? [];
      if (externalIds.length === 0) continue;
      // A taken entry is skipped, not an error, so the 409 names it as sent (as for users).
      const keys = externalIds.map((e) => ({ origin: identifierKey(e.origin), key: identifierKey(e.key) }));
      const rows = keys.map((k) => ({ tenant_id: record.tenantId, ...k, [ownerColumn]: record.id }));
      const inserted = await insertValues(this.any as unknown as Kysely<DB>, this.dialect, table as keyof DB & string, rows, { skipTaken: { returning: ['origin', 'key'] } });
      const index = firstTaken(keys, inserted);
      if (index !== undefined) {
        throw takenError(`${def.kind}.external_id_taken` as ErrorCode, `Another ${def.kind.replaceAll('_', ' ')} in this tenant`, name, externalIds[index], index);
      }
    }
  }

  private toRecord(def: DirectoryDefinition, row: Row): DirectoryRecord {
    return directoryRecordFromRow(def, row);
  }

  private toRow(def: DirectoryDefinition, record: DirectoryRecord): Row {
    const row: Row = { id: record.id, tenant_id: record.tenantId, created_at: record.createdAt, updated_at: record.updatedAt, version: record.version };
    for (const [name, f] of Object.entries(def.fields)) {
      const value = record[name];
      switch (f.type) {
        case 'boolean':
          row[f.column] = toDbBool(this.dialect, value === true);
          break;
        case 'stringArray':
        case 'externalIds':
        case 'configObject':
          row[f.column] = toJson(value);
          break;
        default:
          row[f.column] = value ?? null;
      }
      if (f.lowerColumn) row[f.lowerColumn] = typeof value === 'string' ? identifierKey(value) : null;
    }
    return row;
  }
}

/** A stored row of a directory table as a record (also used by the user expansion loaders). */
export function directoryRecordFromRow(def: DirectoryDefinition, row: Record<string, unknown>): DirectoryRecord {
  const record: DirectoryRecord = {
    id: row.id as string,
    tenantId: row.tenant_id as string,
    createdAt: row.created_at as string,
    updatedAt: row.updated_at as string,
    version: Number(row.version),
  };
  for (const [name, f] of Object.entries(def.fields)) {
    // A projection (the expand loaders select only the fields asked for) leaves the rest out.
    if (!Object.hasOwn(row, f.column)) continue;
    const value = row[f.column];
    switch (f.type) {
      case 'boolean':
        record[name] = fromDbBool(value);
        break;
      case 'integer':
        record[name] = Number(value);
        break;
      case 'stringArray':
      case 'externalIds':
        record[name] = parseJson(value, []);
        break;
      case 'configObject':
        record[name] = parseJson(value, {});
        break;
      default:
        record[name] = value ?? null;
    }
  }
  return record;
}
