import { CompiledQuery, type Kysely } from 'kysely';
import type { DB } from '../db/schema.js';
import type { Dialect } from '../db/database.js';

/** Shapes remembered; more than any workload has (tables × column sets × row counts of a batch). */
const MAX_SHAPES = 2000;
const compiled = new Map<string, string>();

type PlainValue = string | number | bigint | boolean | null | Buffer;
const isPlain = (value: unknown): value is PlainValue =>
  value === null || ['string', 'number', 'bigint', 'boolean'].includes(typeof value) || Buffer.isBuffer(value);

/**
 * `INSERT INTO table (columns) VALUES (…), (…)` of plain values, through Kysely, with the SQL text
 * built by Kysely's own query builder once per shape (dialect, table, columns, number of rows)
 * and reused afterwards with the new values bound. Building an insert of a 30-column user costs
 * several times what running it costs (bench/README.md), and the hottest writes (a user, its
 * external ids, the events of every transaction) are inserts of the same shape again and again.
 *
 * Every row must have the same keys, each a plain value (string, number, bigint, boolean, null,
 * Buffer); anything else (an `sql` expression, a row with other keys) simply goes through the
 * query builder as usual. The first compile of a shape is checked: its parameters must be the
 * values in column order, or the shape is never cached.
 *
 * `skipTaken`: `ON CONFLICT DO NOTHING RETURNING <columns>` (both databases): rows that would
 * break a unique constraint are left out instead of failing the statement (and, on PostgreSQL,
 * the transaction), and the rows actually inserted come back, so the caller can say which value
 * was taken without a lookup before every write. Only uniqueness is skipped; other constraints
 * still fail.
 */
export async function insertValues<T extends keyof DB & string>(
  db: Kysely<DB>,
  dialect: Dialect,
  table: T,
  rows: readonly Record<string, unknown>[],
  options: { skipTaken?: { returning: readonly string[] } } = {},
): Promise<Record<string, unknown>[]> {
  const first = rows[0];
  if (!first) return [];
  const columns = Object.keys(first);
  const values: PlainValue[] = [];
  let plain = true;
  for (const row of rows) {
    const keys = Object.keys(row);
    if (keys.length !== columns.length) plain = false;
    for (const column of columns) {
      const value = row[column];
      if (!isPlain(value)) plain = false;
      values.push(value as PlainValue);
    }
    if (!plain) break;
  }
  const returning = options.skipTaken?.returning;
  // The builder's typing cannot follow a table chosen at run time; the rows are the table's own.
  const build = () => {
    const insert = db.insertInto(table).values(rows as never);
    return returning ? insert.onConflict((oc) => oc.doNothing()).returning(returning as never) : insert;
  };
  if (!plain) return (await build().execute()) as Record<string, unknown>[];
  const shape = `${dialect}\u0001${table}\u0001${columns.join('\u0002')}\u0001${rows.length}\u0001${returning?.join('\u0002') ?? ''}`;
  const text = compiled.get(shape);
  if (text !== undefined) return (await db.executeQuery<Record<string, unknown>>(CompiledQuery.raw(text, values))).rows;
  const query = build().compile();
  if (query.parameters.length === values.length && query.parameters.every((p, i) => p === values[i])) {
    if (compiled.size >= MAX_SHAPES) compiled.clear();
    compiled.set(shape, query.sql);
  }
  return (await db.executeQuery<Record<string, unknown>>(query)).rows;
}

/**
 * The index of the first `{origin, key}` of `wanted` that is missing from `inserted` (the rows
 * an insert with `skipTaken` returned): the external id another record already holds; or of a
 * repeated one. Undefined when every row went in.
 */
export function firstTaken(wanted: readonly { origin: string; key: string }[], inserted: readonly Record<string, unknown>[]): number | undefined {
  if (inserted.length === wanted.length) return undefined;
  const got = new Set(inserted.map((r) => `${String(r.origin)}\u0000${String(r.key)}`));
  const keyOf = (k: { origin: string; key: string }) => `${k.origin}\u0000${k.key}`;
  const missing = wanted.findIndex((k) => !got.has(keyOf(k)));
  if (missing >= 0) return missing;
  // Every key went in, yet rows are missing: the request named one twice (callers refuse that
  // earlier; never skip it silently).
  const seen = new Set<string>();
  return wanted.findIndex((k) => seen.size === seen.add(keyOf(k)).size);
}
