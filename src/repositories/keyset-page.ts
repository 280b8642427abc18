import type { Kysely, RawBuilder, SqlBool } from 'kysely';
import type { Dialect } from '../db/database.js';
import type { FilterNode } from '../filter/filter-ast.js';
import { compileFilter } from '../filter/filter-compiler.js';
import type { FilterSchema } from '../filter/filter-schema.js';
import { cursorPositionFromRow, decodeCursor, encodeCursor, keysetPredicate, orderByClauses, sortSignature } from '../filter/keyset-cursor.js';
import { parseOrderBy, type SortableField } from '../filter/orderby-parser.js';

export interface PageQuery {
  filter: FilterNode | undefined;
  orderBy: string | undefined;
  cursor: string | undefined;
  top: number;
  skip: number;
  count: boolean;
}

export interface PageOf<T> {
  items: T[];
  nextCursor: string | null;
  count?: number;
}

type Row = Record<string, unknown>;

/**
 * One page of a tenant-scoped table, for every list endpoint: `$filter` compiled through the
 * table's whitelist, `$orderby` plus the id tie-breaker, keyset paging (the cursor carries the
 * last row's sort values, so a page deep in the table costs what the first one costs), `$skip`
 * and an optional total. The table name comes from code, never from input.
 */
export async function fetchPage<T>(
  db: Kysely<never>,
  dialect: Dialect,
  table: string,
  tenantId: string,
  schema: { filter: FilterSchema; sortable: Record<string, SortableField> },
  q: PageQuery,
  toItem: (row: Row) => T,
): Promise<PageOf<T>> {
  const any = db as unknown as Kysely<Record<string, Row>>;
  const sorts = parseOrderBy(q.orderBy, schema.sortable);
  const signature = sortSignature(sorts);
  const idColumn = `${table}.id`;
  const where: RawBuilder<SqlBool> | undefined = q.filter && compileFilter(q.filter, schema.filter, dialect);

  let query = any.selectFrom(table).selectAll().where(`${table}.tenant_id`, '=', tenantId);
  if (where) query = query.where(where);
  if (q.cursor !== undefined) query = query.where(keysetPredicate(sorts, idColumn, decodeCursor(q.cursor, signature, sorts), dialect));
  for (const clause of orderByClauses(sorts, idColumn)) query = query.orderBy(clause);
  const rows = await query.limit(q.top + 1).offset(q.skip).execute();

  const page = rows.slice(0, q.top);
  const last = page.at(-1);
  const result: PageOf<T> = {
    items: page.map(toItem),
    nextCursor: rows.length > q.top && last ? encodeCursor(cursorPositionFromRow(last, sorts, 'id'), signature) : null,
  };
  if (q.count) {
    let countQuery = any.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).where(`${table}.tenant_id`, '=', tenantId);
    if (where) countQuery = countQuery.where(where);
    result.count = Number((await countQuery.executeTakeFirstOrThrow()).n);
  }
  return result;
}
