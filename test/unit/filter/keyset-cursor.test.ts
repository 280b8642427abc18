import { Kysely, SqliteDialect, sql } from 'kysely';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../../src/errors/app-error.js';
import {
  cursorPositionFromRow,
  decodeCursor,
  encodeCursor,
  keysetPredicate,
  orderByClauses,
  sortSignature,
  type CursorPosition,
} from '../../../src/filter/keyset-cursor.js';
import { parseOrderBy, type SortableField, type SortKey } from '../../../src/filter/orderby-parser.js';
import { boolValue, dialectTargets, types, type TestDatabase } from './filter-test-databases.js';

const sortable: Record<string, SortableField> = {
  family: { column: 'people.family', type: 'string' },
  given: { column: 'people.given', type: 'string' },
  score: { column: 'people.score', type: 'number' },
  active: { column: 'people.active', type: 'boolean', nullable: false },
  createdAt: { column: 'people.created_at', type: 'datetime', nullable: false },
};

interface Person {
  id: string;
  family: string | null;
  given: string | null;
  score: number | null;
  active: boolean;
  createdAt: string;
}

// Duplicates, NULLs, case variants and a non-ASCII name in every sortable column; ids are a
// permutation so id order differs from insertion order.
const people: Person[] = Array.from({ length: 50 }, (_, i) => ({
  id: `p-${String((i * 37) % 50).padStart(2, '0')}`,
  family: (['Adams', 'Baker', 'adams', null, 'Clark', 'Baker'] as const)[i % 6] ?? null,
  given: (['Ann', null, 'Bob', 'ann', 'Émile'] as const)[i % 5] ?? null,
  score: ([10, null, 5, 10, 7, null, 3] as const)[i % 7] ?? null,
  active: i % 3 === 0,
  createdAt: `2024-01-0${1 + (i % 9)}T00:00:00.000Z`,
}));

const orderings = [
  'family',
  'family desc',
  'family asc, given desc',
  'score desc, family',
  'active, score',
  'createdAt desc',
  '',
  'given desc, score asc, family desc',
  'createdAt, family desc',
  'score, given, family, active desc, createdAt desc',
];

const FIELD: Record<string, keyof Person> = { family: 'family', given: 'given', score: 'score', active: 'active', createdAt: 'createdAt' };

/** The order the SQL must produce, computed independently: NULLs last, then id ascending. */
function expectedOrder(sorts: SortKey[]): string[] {
  const compare = (a: unknown, b: unknown): number => {
    if (a === b) return 0;
    if (a === null) return 1;
    if (b === null) return -1;
    return (a as string | number) < (b as string | number) ? -1 : 1;
  };
  return [...people]
    .sort((x, y) => {
      for (const key of sorts) {
        const field = FIELD[key.field] as keyof Person;
        const [a, b] = [x[field], y[field]];
        if (a === null || b === null) {
          if (a !== b) return a === null ? 1 : -1;
          continue;
        }
        const c = compare(a, b);
        if (c !== 0) return key.direction === 'asc' ? c : -c;
      }
      return compare(x.id, y.id);
    })
    .map((p) => p.id);
}

describe.each(dialectTargets)('keyset paging on $dialect', (target) => {
  let database: TestDatabase;

  beforeAll(async () => {
    if (!target.available) return;
    database = await target.open();
    const t = types(database.dialect);
    await sql`create table people (id ${t.text} primary key, family ${t.text}, given ${t.text}, score integer, active ${t.boolean} not null, created_at ${t.timestamp} not null)`.execute(database.db);
    await database.db
      .insertInto('people')
      .values(people.map((p) => ({ id: p.id, family: p.family, given: p.given, score: p.score, active: boolValue(database.dialect, p.active), created_at: p.createdAt })))
      .execute();
  });
  afterAll(async () => database?.close());

  const select = (sorts: SortKey[], position?: CursorPosition, limit?: number) => {
    let query = database.db.selectFrom('people').selectAll();
    if (position) query = query.where(keysetPredicate(sorts, 'people.id', position, database.dialect));
    for (const clause of orderByClauses(sorts, 'people.id')) query = query.orderBy(clause);
    return (limit === undefined ? query : query.limit(limit)).execute();
  };

  it.skipIf(!target.available).each(orderings)('pages through %j in sevens with no gaps or repeats', async (orderBy) => {
    const sorts = parseOrderBy(orderBy, sortable);
    const signature = sortSignature(sorts);
    const full = (await select(sorts)).map((r) => r.id as string);
    expect(full).toEqual(expectedOrder(sorts));

    const paged: string[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 20; pages++) {
      const position = cursor === undefined ? undefined : decodeCursor(cursor, signature, sorts);
      const rows = await select(sorts, position, 8); // one extra row says whether a next page exists
      const page = rows.slice(0, 7);
      paged.push(...page.map((r) => r.id as string));
      if (rows.length <= 7) break;
      cursor = encodeCursor(cursorPositionFromRow(page.at(-1) as Record<string, unknown>, sorts, 'id'), signature);
    }
    expect(new Set(paged).size).toBe(paged.length);
    expect(paged).toEqual(full);
  });

  it.skipIf(!target.available)('starts after any position, including one between stored values', async () => {
    const sorts = parseOrderBy('score desc, family', sortable);
    const rows = await select(sorts, { values: [6, 'Baker'], id: 'p-00' });
    expect(rows.map((r) => r.score)).toEqual(expect.arrayContaining([5, 3]));
    expect(rows.every((r) => r.score === null || (r.score as number) <= 6)).toBe(true);
  });
});

describe('cursor tokens', () => {
  const sorts = parseOrderBy('family desc, score, createdAt', sortable);
  const signature = sortSignature(sorts);
  const position: CursorPosition = { values: ["O'Brien", null, '2024-01-01T00:00:00.000Z'], id: 'p-01' };
  const token = (payload: unknown) => Buffer.from(JSON.stringify(payload)).toString('base64url');

  const cursorError = (fn: () => unknown): AppError => {
    try {
      fn();
    } catch (error) {
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).code).toBe('request.invalid_cursor');
      return error as AppError;
    }
    throw new Error('expected invalid_cursor');
  };

  it('round-trips a position and is opaque base64url', () => {
    const encoded = encodeCursor(position, signature);
    expect(encoded).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(encoded, signature, sorts)).toEqual(position);
    expect(signature).toBe('family:desc,score:asc,createdAt:asc');
  });

  it.each([
    ['garbage characters', 'not a cursor!'],
    ['base64 of non-JSON', Buffer.from('hello').toString('base64url')],
    ['a JSON array', token([1, 2])],
    ['missing id', token({ s: 'family:desc,score:asc,createdAt:asc', v: ['a', 1, '2024-01-01T00:00:00.000Z'] })],
    ['a nested object value', token({ s: 'family:desc,score:asc,createdAt:asc', v: [{ x: 1 }, 1, '2024-01-01T00:00:00.000Z'], i: 'p' })],
    ['a number where text is sorted', token({ s: 'family:desc,score:asc,createdAt:asc', v: [5, 1, '2024-01-01T00:00:00.000Z'], i: 'p' })],
    ['text where a number is sorted', token({ s: 'family:desc,score:asc,createdAt:asc', v: ['a', '1; drop', '2024-01-01T00:00:00.000Z'], i: 'p' })],
    ['an invalid date-time', token({ s: 'family:desc,score:asc,createdAt:asc', v: ['a', 1, 'yesterday'], i: 'p' })],
    ['null for a NOT NULL key', token({ s: 'family:desc,score:asc,createdAt:asc', v: ['a', 1, null], i: 'p' })],
    ['too few values', token({ s: 'family:desc,score:asc,createdAt:asc', v: ['a', 1], i: 'p' })],
    ['an empty id', token({ s: 'family:desc,score:asc,createdAt:asc', v: ['a', 1, '2024-01-01T00:00:00.000Z'], i: '' })],
    ['more than 2 KiB', 'A'.repeat(2049)],
    ['an empty string', ''],
  ])('rejects %s', (_name, bad) => {
    cursorError(() => decodeCursor(bad, signature, sorts));
  });

  it('rejects a cursor made for another $orderby, saying so', () => {
    const other = encodeCursor(position, 'family:asc,score:asc,createdAt:asc');
    expect(cursorError(() => decodeCursor(other, signature, sorts)).message).toContain('different $orderby');
  });

  it('still checks value types in keysetPredicate when decoded without sorts', () => {
    const tampered = token({ s: signature, v: ['a', 'not a number', '2024-01-01T00:00:00.000Z'], i: 'p' });
    const decoded = decodeCursor(tampered, signature);
    cursorError(() => keysetPredicate(sorts, 'people.id', decoded, 'postgres'));
  });

  it('turns 0/1 booleans into true/false and reads columns by name', () => {
    const boolSorts = parseOrderBy('active desc, createdAt', sortable);
    expect(cursorPositionFromRow({ id: 'p-1', active: 1, created_at: '2024-01-01T00:00:00.000Z' }, boolSorts, 'id')).toEqual({
      values: [true, '2024-01-01T00:00:00.000Z'],
      id: 'p-1',
    });
    expect(cursorPositionFromRow({ id: 'p-1', active: false, createdAt: new Date('2024-01-01T00:00:00Z') }, boolSorts, 'id').values).toEqual([
      false,
      '2024-01-01T00:00:00.000Z',
    ]);
  });

  it('emits index-friendly SQL for a single NOT NULL key and explicit NULLS LAST ordering', () => {
    const db = new Kysely<{ people: { id: string; created_at: string } }>({ dialect: new SqliteDialect({ database: new Database(':memory:') }) });
    const single = parseOrderBy('createdAt', sortable);
    let query = db.selectFrom('people').select('id').where(keysetPredicate(single, 'people.id', { values: ['2024-01-01T00:00:00.000Z'], id: 'p-1' }, 'sqlite'));
    for (const clause of orderByClauses(single, 'people.id')) query = query.orderBy(clause);
    expect(query.compile().sql).toBe(
      'select "id" from "people" where ("people"."created_at" >= ? and ("people"."created_at" > ? or ("people"."created_at" = ? and "people"."id" > ?))) order by "people"."created_at" asc nulls last, "people"."id" asc',
    );
    void db.destroy();
  });
});
