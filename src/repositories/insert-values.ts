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
 */
export async function insertValues<T extends keyof DB & string>(
  db: Kysely<DB>,
  dialect: Dialect,
  table: T,
  rows: readonly Record<string, unknown>[],
): Promise<void> {
  const first = rows[0];
  if (!first) return;
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
  // The builder's typing cannot follow a table chosen at run time; the rows are the table's own.
  const build = () => db.insertInto(table).values(rows as never);
  if (!plain) {
    await build().execute();
    return;
  }
  const shape = `${dialect}\u0001${table}\u0001${columns.join('\u0002')}\u0001${rows.length}`;
  const text = compiled.get(shape);
  if (text !== undefined) {
    await db.executeQuery(CompiledQuery.raw(text, values));
    return;
  }
  const query = build().compile();
  if (query.parameters.length === values.length && query.parameters.every((p, i) => p === values[i])) {
    if (compiled.size >= MAX_SHAPES) compiled.clear();
    compiled.set(shape, query.sql);
  }
  await db.executeQuery(query);
}
