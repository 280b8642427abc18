import type { Kysely, RawBuilder, SqlBool } from 'kysely';
import type { Dialect } from '../db/database.js';
import type { ListQuery } from '../domain/list-query.js';
import { compileFilter } from '../filter/filter-compiler.js';
import type { FilterSchema } from '../filter/filter-schema.js';
import { cursorPositionFromRow, keysetPredicate, keysetPredicateBefore, orderByClauses } from '../filter/keyset-cursor.js';
import { bindToCursor, encodeListCursor } from '../filter/list-cursor.js';
import { resolveSort, type SortableField } from '../filter/sort-keys.js';

export interface PageOf<T> {
  items: T[];
  nextCursor: string | null;
  /**
   * The page before this one (RFC 9865 previousCursor): set for a page reached through a cursor
   * (when rows may precede it); null on the first page.
   */
  previousCursor?: string | null;
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
  // A cursor of a case-insensitive (SCIM) query continues only such a query: the same filter
  // compares otherwise without it, so each is refused by the other's lists.
  const resource = q.ignoreCase ? `${table}~ignore-case` : table;
  const { position, before } = bindToCursor(q, { resource });
  const sorts = resolveSort(q.sort, schema.sortable);
  const idColumn = `${table}.id`;
  const size = q.page.size;
  const where: RawBuilder<SqlBool> | undefined = q.filter && compileFilter(q.filter, schema.filter, dialect);

  let query = any.selectFrom(table).selectAll().where(`${table}.tenant_id`, '=', tenantId);
  if (where) query = query.where(where);
  if (position) query = query.where(before ? keysetPredicateBefore(sorts, idColumn, position, dialect) : keysetPredicate(sorts, idColumn, position, dialect));
  for (const clause of orderByClauses(sorts, idColumn, before === true)) query = query.orderBy(clause);
  const rows = await query.limit(size + 1).offset(offset).execute();

  const more = rows.length > size;
  // A page before a cursor is read backwards: flip it back into the list's order.
  const page = before ? rows.slice(0, size).reverse() : rows.slice(0, size);
  const first = page[0];
  const last = page.at(-1);
  const cursorAt = (row: Row, backwards: boolean) => encodeListCursor(resource, q, cursorPositionFromRow(row, sorts, 'id'), backwards);
  const result: PageOf<T> = {
    items: page.map(toItem),
    nextCursor: last && (before ? position !== undefined : more) ? cursorAt(last, false) : null,
    previousCursor: first && (before ? more : position !== undefined) ? cursorAt(first, true) : null,
  };
  if (q.count) {
    let countQuery = any.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).where(`${table}.tenant_id`, '=', tenantId);
    if (where) countQuery = countQuery.where(where);
    result.count = Number((await countQuery.executeTakeFirstOrThrow()).n);
  }
  return result;
}
