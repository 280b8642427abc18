import { sql, type RawBuilder, type SqlBool } from 'kysely';
import { queryError } from './filter-errors.js';
import { bindValue } from './filter-operands.js';
import type { FilterDialect } from './filter-schema.js';
import { normaliseDateTime } from './literal-validators.js';
import type { SortKey } from './sort-keys.js';

/** Where a page ended: the sort values of its last row and that row's id (the tie-breaker). */
export interface CursorPosition {
  values: (string | number | boolean | null)[];
  id: string;
}

const cursorError = (detail: string) => queryError('cursor', `${detail} Pass the nextCursor of the previous page unchanged.`);

/**
 * ORDER BY terms: the sort keys, then the id ascending so the order is total. NULLS LAST is
 * explicit because the databases disagree by default (SQLite puts NULLs first ascending,
 * PostgreSQL last), and the keyset predicate relies on one agreed placement.
 */
export function orderByClauses(sorts: readonly SortKey[], idColumn: string, reversed = false): RawBuilder<unknown>[] {
  if (reversed) {
    // The same order read backwards (a page before a cursor is fetched this way, then flipped).
    return [
      ...sorts.map((s) => (s.direction === 'desc' ? sql`${sql.ref(s.column)} asc nulls first` : sql`${sql.ref(s.column)} desc nulls first`)),
      sql`${sql.ref(idColumn)} desc`,
    ];
  }
  return [
    ...sorts.map((s) => (s.direction === 'desc' ? sql`${sql.ref(s.column)} desc nulls last` : sql`${sql.ref(s.column)} asc nulls last`)),
    sql`${sql.ref(idColumn)} asc`,
  ];
}

/**
 * Rows strictly before `position` in the order of orderByClauses (RFC 9865 previousCursor): the
 * mirror of keysetPredicate. NULLs come last, so every non-NULL value is before a NULL one.
 */
export function keysetPredicateBefore(sorts: readonly SortKey[], idColumn: string, position: CursorPosition, dialect: FilterDialect): RawBuilder<SqlBool> {
  assertPositionFits(position, sorts);
  let condition: RawBuilder<SqlBool> = sql`${sql.ref(idColumn)} < ${position.id}`;
  for (let i = sorts.length - 1; i >= 0; i--) {
    const key = sorts[i] as SortKey;
    const value = position.values[i] ?? null;
    const col = sql.ref(key.column);
    if (value === null) {
      condition = sql`(${col} is not null or (${col} is null and ${condition}))`;
      continue;
    }
    const bound = bindValue(value, dialect);
    const before = key.direction === 'desc' ? sql`${col} > ${bound}` : sql`${col} < ${bound}`;
    condition = sql`(${before} or (${col} = ${bound} and ${condition}))`;
    if (i === 0 && key.nullable === false) {
      condition = sql`(${col} ${sql.raw(key.direction === 'desc' ? '>=' : '<=')} ${bound} and ${condition})`;
    }
  }
  return condition;
}

/**
 * Rows strictly after `position` in the order of orderByClauses. Built as
 *   k1 after v1 OR (k1 = v1 AND (k2 after v2 OR (k2 = v2 AND ... id > ?)))
 * where "after" follows each key's direction and counts NULL as after every value. A NOT NULL
 * leading key also gets a plain range bound (k1 >= v1) that an index can seek on.
 */
export function keysetPredicate(sorts: readonly SortKey[], idColumn: string, position: CursorPosition, dialect: FilterDialect): RawBuilder<SqlBool> {
  assertPositionFits(position, sorts);
  let condition: RawBuilder<SqlBool> = sql`${sql.ref(idColumn)} > ${position.id}`;
  for (let i = sorts.length - 1; i >= 0; i--) {
    const key = sorts[i] as SortKey;
    const value = position.values[i] ?? null;
    const col = sql.ref(key.column);
    if (value === null) {
      // NULLs come last in either direction, so only rows tied on NULL can follow.
      condition = sql`(${col} is null and ${condition})`;
      continue;
    }
    const bound = bindValue(value, dialect);
    const beyond = key.direction === 'desc' ? sql`${col} < ${bound}` : sql`${col} > ${bound}`;
    const after = key.nullable === false ? beyond : sql`${beyond} or ${col} is null`;
    condition = sql`(${after} or (${col} = ${bound} and ${condition}))`;
    if (i === 0 && key.nullable === false) {
      condition = sql`(${col} ${sql.raw(key.direction === 'desc' ? '<=' : '>=')} ${bound} and ${condition})`;
    }
  }
  return condition;
}

/** The position of a row as read from the database, in a portable form for the cursor. */
export function cursorPositionFromRow(row: Record<string, unknown>, sorts: readonly SortKey[], idKey: string): CursorPosition {
  const values = sorts.map((key) => {
    const column = key.column.slice(key.column.lastIndexOf('.') + 1);
    const name = column in row ? column : key.field in row ? key.field : undefined;
    if (name === undefined) throw new Error(`Row has neither '${column}' nor '${key.field}' for the cursor`);
    return portable(row[name], key);
  });
  const id = row[idKey];
  if (typeof id !== 'string' && typeof id !== 'number') throw new Error(`Row has no usable id under '${idKey}' for the cursor`);
  return { values, id: String(id) };
}

function portable(value: unknown, key: SortKey): string | number | boolean | null {
  if (value === null || value === undefined) return null;
  // SQLite hands back booleans as 0/1 and PostgreSQL as true/false: store one form.
  if (key.type === 'boolean') return value === true || value === 1 || value === '1';
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  throw new Error(`Sort value for '${key.field}' is not a scalar`);
}

/** A position decoded from a cursor must have one value of the right type per sort key. */
export function assertPositionFits(position: CursorPosition, sorts: readonly SortKey[]): void {
  if (position.values.length !== sorts.length) throw cursorError('The cursor does not match the sort order.');
  if (typeof position.id !== 'string' || position.id === '' || position.id.length > 200) throw cursorError('The cursor is not valid.');
  sorts.forEach((key, i) => {
    const value = position.values[i];
    if (!fitsType(value, key)) throw cursorError(`The cursor holds an unexpected value for ${key.field}.`);
  });
}

function fitsType(value: unknown, key: SortKey): boolean {
  if (value === null) return key.nullable !== false;
  switch (key.type) {
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'datetime':
      return typeof value === 'string' && normaliseDateTime(value) !== undefined;
    default:
      return typeof value === 'string';
  }
}

