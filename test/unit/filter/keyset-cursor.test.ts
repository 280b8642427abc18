import { deflateRawSync } from 'node:zlib';
import { Kysely, SqliteDialect, sql } from 'kysely';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ListQuery } from '../../../src/domain/list-query.js';
import { AppError } from '../../../src/errors/app-error.js';
import type { QueryError } from '../../../src/errors/query-error.js';
import { cursorPositionFromRow, keysetPredicate, orderByClauses, type CursorPosition } from '../../../src/filter/keyset-cursor.js';
import { bindToCursor, decodeListCursor, encodeListCursor } from '../../../src/filter/list-cursor.js';
import { parseODataFilter } from '../../../src/filter/odata-filter-parser.js';
import { parseODataOrderBy } from '../../../src/filter/orderby-parser.js';
import { resolveSort, type SortableField, type SortKey } from '../../../src/filter/sort-keys.js';
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

const parseOrderBy = (input: string, fields: Record<string, SortableField>) => resolveSort(parseODataOrderBy(input), fields);
const listQuery = (orderBy: string, size = 7): ListQuery => ({ sort: parseODataOrderBy(orderBy), page: { size }, count: false });

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
    const query = listQuery(orderBy);
    const full = (await select(sorts)).map((r) => r.id as string);
    expect(full).toEqual(expectedOrder(sorts));

    const paged: string[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 20; pages++) {
      const position = cursor === undefined ? undefined : bindToCursor({ ...query, page: { size: 7, cursor } }, { resource: 'people' }).position;
      const rows = await select(sorts, position, 8); // one extra row says whether a next page exists
      const page = rows.slice(0, 7);
      paged.push(...page.map((r) => r.id as string));
      if (rows.length <= 7) break;
      cursor = encodeListCursor('people', query, cursorPositionFromRow(page.at(-1) as Record<string, unknown>, sorts, 'id'));
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
  const orderBy = 'family desc, score, createdAt';
  const sorts = parseOrderBy(orderBy, sortable);
  const filter = parseODataFilter("family eq 'Baker' and (score gt 3 or createdAt ge 2024-01-02)");
  const query: ListQuery = { filter, sort: parseODataOrderBy(orderBy), select: ['family', 'given'], page: { size: 7 }, count: false };
  const position: CursorPosition = { values: ["O'Brien", null, '2024-01-01T00:00:00.000Z'], id: 'p-01' };
  const token = (payload: unknown) => deflateRawSync(Buffer.from(JSON.stringify(payload))).toString('base64url');
  const valid = {
    v: 1, r: 'people', f: filter, s: [['family', 'desc'], ['score', 'asc'], ['createdAt', 'asc']], l: ['family'], n: 7,
    k: ['a', 1, '2024-01-01T00:00:00.000Z'], i: 'p',
  };
  const nest = (depth: number): unknown => (depth === 0 ? { kind: 'present', path: ['family'] } : { kind: 'not', operand: nest(depth - 1) });

  const cursorError = (fn: () => unknown): QueryError => {
    try {
      fn();
    } catch (error) {
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).code).toBe('request.invalid_cursor');
      return error as QueryError;
    }
    throw new Error('expected invalid_cursor');
  };

  it('round-trips the whole query and the position, as opaque base64url', () => {
    const encoded = encodeListCursor('people', query, position);
    expect(encoded).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeListCursor(encoded)).toEqual({
      resource: 'people',
      query: { filter, sort: query.sort, select: ['family', 'given'], size: 7 },
      position,
      before: false,
    });
    expect(decodeListCursor(token(valid)).query.size).toBe(7);
    // A previousCursor carries the same and says it reads backwards; a bad direction marker is refused.
    expect(decodeListCursor(encodeListCursor('people', query, position, true)).before).toBe(true);
    expect(cursorError(() => decodeListCursor(token({ ...valid, b: 2 }))).part).toBe('cursor');
  });

  it('stays compact for a large filter', () => {
    const big = parseODataFilter(Array.from({ length: 40 }, (_, i) => `family eq 'name-number-${i}'`).join(' or '));
    expect(encodeListCursor('people', { ...query, filter: big }, position).length).toBeLessThan(2048);
  });

  it.each([
    ['garbage characters', 'not a cursor!'],
    ['base64 of non-deflate data', Buffer.from('hello').toString('base64url')],
    ['the old uncompressed format', Buffer.from(JSON.stringify({ s: '', v: [], i: 'p' })).toString('base64url')],
    ['a JSON array', token([1, 2])],
    ['another format version', token({ ...valid, v: 2 })],
    ['an unknown property', token({ ...valid, x: 1 })],
    ['missing id', token({ ...valid, i: undefined })],
    ['an empty id', token({ ...valid, i: '' })],
    ['a nested object value', token({ ...valid, k: [{ x: 1 }, 1, '2024-01-01T00:00:00.000Z'] })],
    ['too few values', token({ ...valid, k: ['a', 1] })],
    ['a page size of zero', token({ ...valid, n: 0 })],
    ['a page size of a million', token({ ...valid, n: 1_000_000 })],
    ['a bad sort direction', token({ ...valid, s: [['family', 'sideways'], ['score', 'asc'], ['createdAt', 'asc']] })],
    ['SQL as a sort field', token({ ...valid, s: [['family; drop table people', 'asc'], ['score', 'asc'], ['createdAt', 'asc']] })],
    ['a selected field that is not a name', token({ ...valid, l: ['family', 1] })],
    ['a filter of the wrong shape', token({ ...valid, f: { kind: 'compare', op: 'eq', path: 'family', value: { type: 'string', value: 'x' } } })],
    ['a filter with an unknown node kind', token({ ...valid, f: { kind: 'raw', sql: '1=1' } })],
    ['a filter with an unknown operator', token({ ...valid, f: { kind: 'compare', op: 'like', path: ['family'], value: { type: 'string', value: 'x' } } })],
    ['a filter with an extra property', token({ ...valid, f: { kind: 'present', path: ['family'], column: 'password' } })],
    ['a filter with SQL in a path', token({ ...valid, f: { kind: 'present', path: ["family') or 1=1 --"] } })],
    ['a filter literal of the wrong type', token({ ...valid, f: { kind: 'compare', op: 'eq', path: ['score'], value: { type: 'number', value: '1' } } })],
    ['a non-canonical date-time', token({ ...valid, f: { kind: 'compare', op: 'gt', path: ['createdAt'], value: { type: 'datetime', value: 'yesterday' } } })],
    ['a filter nested 65 levels deep', token({ ...valid, f: nest(65) })],
    ['more than 8 KiB', 'A'.repeat(8193)],
    ['an empty string', ''],
  ])('rejects %s', (_name, bad) => {
    cursorError(() => decodeListCursor(bad));
  });

  it('refuses a cursor that inflates beyond its limit', () => {
    // Every part of this filter is within the tree limits; only the inflated size is too large.
    const values = Array.from({ length: 20 }, (_, i) => ({ type: 'string', value: `${i}`.padEnd(4000, 'x') }));
    const bomb = token({ ...valid, f: { kind: 'in', path: ['family'], values } });
    expect(bomb.length).toBeLessThan(8192);
    cursorError(() => decodeListCursor(bomb));
  });

  it('accepts a filter nested as deep as the compiler allows', () => {
    expect(decodeListCursor(token({ ...valid, f: nest(64) })).query.filter).toEqual(nest(64));
  });

  it('binds the whole query: a sent part must match, an unsent one comes from the cursor', () => {
    const cursor = encodeListCursor('people', query, position);
    const sent = { filter: false, sort: false, select: false, size: false };
    const continued = bindToCursor({ sort: [], page: { size: 50, cursor }, count: true }, { sent });
    expect(continued.query).toEqual({ ...query, page: { size: 7, cursor }, count: true });
    expect(continued.position).toEqual(position);
    const respaced = parseODataFilter("family  eq  'Baker' and ( score gt 3 or createdAt ge 2024-01-02T00:00:00Z )");
    expect(bindToCursor({ ...query, filter: respaced, select: ['given', 'family'], page: { size: 7, cursor } }).position).toEqual(position);
    const others: [string, ListQuery][] = [
      ['filter', { ...query, filter: parseODataFilter("family eq 'Clark'") }],
      ['sort', { ...query, sort: parseODataOrderBy('family') }],
      ['select', { ...query, select: ['family'] }],
      ['size', { ...query, page: { size: 8 } }],
    ];
    for (const [part, other] of others) {
      const error = cursorError(() => bindToCursor({ ...other, page: { ...other.page, cursor } }));
      expect(error.options.conflictsWith, part).toBe(part);
      expect(error.message).not.toContain('$');
    }
    expect(cursorError(() => bindToCursor({ ...query, page: { size: 7, cursor } }, { resource: 'users' })).message).toContain('another list');
    expect(cursorError(() => bindToCursor({ ...query, page: { size: 7, cursor } }, { selectable: ['given'] })).part).toBe('cursor');
  });

  it('refuses a cursor with an offset', () => {
    const cursor = encodeListCursor('people', query, position);
    const paging = expect.objectContaining({ code: 'request.invalid_paging', part: 'offset' });
    expect(() => bindToCursor({ ...query, page: { size: 7, cursor, offset: 1 } })).toThrow(paging);
  });

  it('still checks value types against the sort keys in keysetPredicate', () => {
    const decoded = decodeListCursor(token({ ...valid, k: ['a', 'not a number', '2024-01-01T00:00:00.000Z'] }));
    cursorError(() => keysetPredicate(sorts, 'people.id', decoded.position, 'postgres'));
    cursorError(() => keysetPredicate(sorts, 'people.id', { values: ['a', 1, null], id: 'p' }, 'postgres'));
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
