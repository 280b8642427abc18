import type { Kysely, RawBuilder, SqlBool } from 'kysely';
import type { Dialect } from '../db/database.js';
import type { ListQuery } from '../domain/list-query.js';
import { compileFilter } from '../filter/filter-compiler.js';
import type { FilterSchema } from '../filter/filter-schema.js';
import { cursorPositionFromRow, keysetPredicate, orderByClauses } from '../filter/keyset-cursor.js';
import { bindToCursor, encodeListCursor } from '../filter/list-cursor.js';
import { resolveSort, type SortableField } from '../filter/sort-keys.js';

export interface PageOf<T> {
  items: T[];
  nextCursor: string | null;
  count?: number;
}

type Row = Record<string, unknown>;

/**
 * One page of a tenant-scoped table, for every list endpoint: the filter compiled through the
 * table's whitelist, the sort terms resolved against it plus the id tie-breaker, keyset paging
 * (the cursor carries the last row's sort values, so a page deep in the table costs what the
 * first one costs), offset paging and an optional total. The cursor is bound to the whole query
 * (see list-cursor.ts): one issued for another filter, sort, selection, page size or table is
 * refused. The table name comes from code, never from input.
 * Errors: QueryError for an unknown filter or sort field, a bad cursor, or a cursor with an offset.
 */
export async function fetchPage<T>(
  db: Kysely<never>,
  dialect: Dialect,
  table: string,
  tenantId: string,
  schema: { filter: FilterSchema; sortable: Record<string, SortableField> },
  q: ListQuery,
  toItem: (row: Row) => T,
): Promise<PageOf<T>> {
  const any = db as unknown as Kysely<Record<string, Row>>;
  const offset = q.page.offset ?? 0;
  const { position } = bindToCursor(q, { resource: table });
  const sorts = resolveSort(q.sort, schema.sortable);
  const idColumn = `${table}.id`;
  const size = q.page.size;
  const where: RawBuilder<SqlBool> | undefined = q.filter && compileFilter(q.filter, schema.filter, dialect);

  let query = any.selectFrom(table).selectAll().where(`${table}.tenant_id`, '=', tenantId);
  if (where) query = query.where(where);
  if (position) query = query.where(keysetPredicate(sorts, idColumn, position, dialect));
  for (const clause of orderByClauses(sorts, idColumn)) query = query.orderBy(clause);
  const rows = await query.limit(size + 1).offset(offset).execute();

  const page = rows.slice(0, size);
  const last = page.at(-1);
  const result: PageOf<T> = {
    items: page.map(toItem),
    nextCursor: rows.length > size && last ? encodeListCursor(table, q, cursorPositionFromRow(last, sorts, 'id')) : null,
  };
  if (q.count) {
    let countQuery = any.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).where(`${table}.tenant_id`, '=', tenantId);
    if (where) countQuery = countQuery.where(where);
    result.count = Number((await countQuery.executeTakeFirstOrThrow()).n);
  }
  return result;
}
