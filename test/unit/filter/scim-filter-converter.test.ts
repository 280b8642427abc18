import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FilterNode } from '../../../src/filter/filter-ast.js';
import { compileFilter } from '../../../src/filter/filter-compiler.js';
import type { FilterSchema } from '../../../src/filter/filter-schema.js';
import { validateFilterTree } from '../../../src/filter/filter-validator.js';
import { scimPathKey, type ScimFilter } from '../../../src/filter/scim-filter-ast.js';
import { toFilterNode, type ScimAttributeResolver } from '../../../src/filter/scim-filter-converter.js';
import { ScimFilterError } from '../../../src/filter/scim-filter-errors.js';
import { parseScimFilter } from '../../../src/filter/scim-filter-parser.js';
import { ENTERPRISE } from './scim-filter-arbitraries.js';
import { dialectTargets, types, type TestDatabase } from './filter-test-databases.js';

/**
 * A mapping like the SCIM adapter's will be: most attributes are columns, the work email is the
 * `email` column (the mapping absorbs `[type eq "work"]`), `roles` is a JSON array of strings
 * and `x-links` a child table, both kept as lists.
 */
const resolve: ScimAttributeResolver = (reference) => {
  const key = scimPathKey(reference);
  const filter = reference.valueFilter;
  const isWorkFilter = filter?.kind === 'compare' && filter.op === 'eq' && filter.path.attribute.toLowerCase() === 'type' && filter.value === 'work';
  if (filter && key === 'emails.value') return isWorkFilter ? ['email'] : undefined;
  if (filter && key === 'emails') return isWorkFilter ? ['email'] : undefined;
  switch (key) {
    case 'username':
    case 'urn:ietf:params:scim:schemas:core:2.0:user:username':
      return ['userName'];
    case 'displayname':
      return ['displayName'];
    case 'emails':
    case 'emails.value':
      return ['email'];
    case 'meta.created':
      return ['createdAt'];
    case 'active':
      return ['active'];
    case `${ENTERPRISE.toLowerCase()}:costcenter`:
      return ['attributes', 'costCenter'];
    case 'roles':
    case 'roles.value':
      return { kind: 'collection', path: ['tags'], element: (sub) => (sub === undefined || sub.toLowerCase() === 'value' ? [] : undefined) };
    case 'x-links':
    case 'x-links.origin':
    case 'x-links.key':
    case 'x-links.nope':
      return {
        kind: 'collection',
        path: ['externalIds'],
        element: (sub) => (sub?.toLowerCase() === 'origin' ? ['origin'] : sub?.toLowerCase() === 'key' ? ['key'] : undefined),
      };
    default:
      return undefined;
  }
};

const convert = (filter: string): FilterNode => toFilterNode(parseScimFilter(filter), resolve);

const schema: FilterSchema = {
  fields: {
    userName: { column: 'users.user_name_lower', type: 'string', caseInsensitive: true },
    displayName: { column: 'users.display_name', type: 'string' },
    email: { column: 'users.email', type: 'string' },
    createdAt: { column: 'users.created_at', type: 'datetime' },
    active: { column: 'users.active', type: 'boolean' },
    tags: { kind: 'jsonArray', column: 'users.tags', elementType: 'string' },
    attributes: { kind: 'jsonObject', column: 'users.attributes' },
    externalIds: {
      kind: 'collection',
      source: sql`user_external_ids as e`,
      correlate: sql`e.user_id = users.id`,
      fields: { origin: { column: 'e.origin', type: 'string' }, key: { column: 'e.key', type: 'string' } },
    },
  },
};

const people = [
  { id: 'alice', user_name_lower: 'alice@x.com', display_name: 'Alice Adams', email: 'alice@work.example', created_at: '2025-06-01T00:00:00.000Z', active: true, tags: '["admin","sales"]', attributes: '{"costCenter":"CC-1"}' },
  { id: 'bob', user_name_lower: 'bob@x.com', display_name: 'Bob', email: null, created_at: '2026-02-01T00:00:00.000Z', active: false, tags: '[]', attributes: '{}' },
  { id: 'carol', user_name_lower: 'carol@x.com', display_name: 'Carol Clark', email: 'carol@work.example', created_at: '2026-03-01T00:00:00.000Z', active: true, tags: '["eng"]', attributes: '{"costCenter":"CC-2"}' },
];
const links = [
  { user_id: 'alice', origin: 'entra', key: 'E-1' },
  { user_id: 'carol', origin: 'okta', key: 'O-3' },
];

describe('toFilterNode', () => {
  it('maps comparisons, co/sw/ew and pr', () => {
    expect(convert('userName eq "x"')).toEqual({ kind: 'compare', op: 'eq', path: ['userName'], value: { type: 'string', value: 'x' } });
    expect(convert('displayName co "a"')).toEqual({ kind: 'function', name: 'contains', path: ['displayName'], value: 'a' });
    expect(convert('displayName sw "a"')).toMatchObject({ kind: 'function', name: 'startswith' });
    expect(convert('displayName ew "a"')).toMatchObject({ kind: 'function', name: 'endswith' });
    expect(convert('displayName pr')).toEqual({ kind: 'present', path: ['displayName'] });
    expect(convert('active ne true')).toEqual({ kind: 'compare', op: 'ne', path: ['active'], value: { type: 'boolean', value: true } });
    expect(convert('displayName eq null')).toEqual({ kind: 'compare', op: 'eq', path: ['displayName'], value: { type: 'null' } });
    expect(convert('meta.created le 3')).toEqual({ kind: 'compare', op: 'le', path: ['createdAt'], value: { type: 'number', value: 3 } });
  });

  it('keeps and, or and not', () => {
    expect(convert('not (userName eq "a") or displayName pr and active eq false')).toEqual({
      kind: 'or',
      left: { kind: 'not', operand: { kind: 'compare', op: 'eq', path: ['userName'], value: { type: 'string', value: 'a' } } },
      right: { kind: 'and', left: { kind: 'present', path: ['displayName'] }, right: { kind: 'compare', op: 'eq', path: ['active'], value: { type: 'boolean', value: false } } },
    });
  });

  it('lets the mapping absorb a value filter', () => {
    expect(convert('emails[type eq "work"].value eq "x"')).toEqual({ kind: 'compare', op: 'eq', path: ['email'], value: { type: 'string', value: 'x' } });
    expect(convert('emails[type eq "work"]')).toEqual({ kind: 'present', path: ['email'] });
  });

  it('turns lists into any() with the value filter and the sub-attribute inside', () => {
    expect(convert('x-links[origin eq "entra" and key sw "E"]')).toEqual({
      kind: 'any',
      path: ['externalIds'],
      variable: 'e',
      predicate: {
        kind: 'and',
        left: { kind: 'compare', op: 'eq', path: ['e', 'origin'], value: { type: 'string', value: 'entra' } },
        right: { kind: 'function', name: 'startswith', path: ['e', 'key'], value: 'E' },
      },
    });
    expect(convert('x-links[origin eq "okta"].key eq "O-3"')).toEqual({
      kind: 'any',
      path: ['externalIds'],
      variable: 'e',
      predicate: {
        kind: 'and',
        left: { kind: 'compare', op: 'eq', path: ['e', 'origin'], value: { type: 'string', value: 'okta' } },
        right: { kind: 'compare', op: 'eq', path: ['e', 'key'], value: { type: 'string', value: 'O-3' } },
      },
    });
    expect(convert('roles eq "admin"')).toEqual({ kind: 'any', path: ['tags'], variable: 'e', predicate: { kind: 'compare', op: 'eq', path: ['e'], value: { type: 'string', value: 'admin' } } });
    expect(convert('roles pr')).toEqual({ kind: 'present', path: ['tags'] });
    expect(convert('x-links.key pr')).toEqual({ kind: 'any', path: ['externalIds'], variable: 'e', predicate: { kind: 'present', path: ['e', 'key'] } });
  });

  it('produces trees the cursor validator accepts', () => {
    for (const filter of ['x-links[origin eq "okta"].key eq "O-3" or not (roles co "a")', 'userName eq "x" and emails[type eq "work"]']) {
      const tree = convert(filter);
      expect(validateFilterTree(JSON.parse(JSON.stringify(tree)))).toEqual(tree);
    }
  });

  it.each([
    ['nickName eq "x"', "The attribute 'nickName' cannot be used in a filter."],
    ['emails[type eq "home"].value eq "x"', "The attribute 'emails.value' cannot be used in a filter."],
    ['x-links eq "x"', "'x-links' has several sub-attributes; name one, e.g. x-links.value."],
    ['x-links[nope eq "x"]', "'x-links' has no sub-attribute 'nope' that can be used in a filter."],
    ['x-links.nope eq "x"', "'x-links' has no sub-attribute 'nope'"],
    ['displayName co 1', `'co' compares text, so it needs a "string" value, e.g. displayName co "x" (got 1).`],
    ['displayName sw null', '(got null)'],
    ['displayName ew true', '(got true)'],
  ])('rejects %j with invalidFilter', (filter, message) => {
    let caught: unknown;
    try {
      convert(filter);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ScimFilterError);
    expect((caught as ScimFilterError).scimType).toBe('invalidFilter');
    expect((caught as ScimFilterError).message).toContain(message);
  });

  it('refuses a tree that grows past the shared limits once mapped', () => {
    // The parser allows 64 levels; a list comparison gains one (any, and) once mapped.
    const wrapped = (n: number) => `${'not ('.repeat(n)}x-links[origin eq "o"].key eq "k"${')'.repeat(n)}`;
    expect(() => convert(wrapped(61))).not.toThrow();
    expect(() => convert(wrapped(62))).toThrow('(66 conditions, 65 levels deep; the limits are 256 and 64); simplify it.');
    // An adapter may combine trees itself: 128 list comparisons in a balanced or.
    const leaf = parseScimFilter('x-links[origin eq "o"].key eq "k"');
    let level: ScimFilter[] = Array.from({ length: 128 }, () => leaf);
    while (level.length > 1) level = Array.from({ length: level.length / 2 }, (_, i) => ({ kind: 'or', left: level[2 * i] as ScimFilter, right: level[2 * i + 1] as ScimFilter }));
    expect(() => toFilterNode(level[0] as ScimFilter, resolve)).toThrow('(639 conditions, 10 levels deep;');
    // A hand-built chain far deeper than any parser output fails without exhausting the stack.
    let chain: ScimFilter = leaf;
    for (let i = 0; i < 100_000; i++) chain = { kind: 'and', left: chain, right: leaf };
    expect(() => toFilterNode(chain, resolve)).toThrow('The filter nests more than 64 levels deep; simplify it.');
  });
});

describe.each(dialectTargets)('SCIM filters compiled on $dialect', (target) => {
  let database: TestDatabase;

  beforeAll(async () => {
    if (!target.available) return;
    database = await target.open();
    const { db, dialect } = database;
    const t = types(dialect);
    await sql`create table users (id ${t.text} primary key, user_name_lower ${t.text} not null, display_name ${t.text} not null, email ${t.text},
      created_at ${t.timestamp} not null, active ${t.boolean} not null, tags ${t.json} not null, attributes ${t.json} not null)`.execute(db);
    await sql`create table user_external_ids (user_id ${t.text} not null, origin ${t.text} not null, key ${t.text} not null)`.execute(db);
    await db.insertInto('users').values(people.map((p) => ({ ...p, active: dialect === 'sqlite' ? Number(p.active) : p.active }))).execute();
    await db.insertInto('user_external_ids').values(links).execute();
  });
  afterAll(async () => database?.close());

  // PostgreSQL is "available" when TEST_DATABASE_URL is set: always in CI (vitest.config.ts
  // refuses to run there without it), so this skips only on a developer's machine without it.
  it.skipIf(!target.available).each([
    ['userName eq "ALICE@X.COM"', ['alice']],
    ['USERNAME Eq "bob@x.com" or displayName sw "Car"', ['bob', 'carol']],
    ['urn:ietf:params:scim:schemas:core:2.0:User:userName eq "carol@x.com"', ['carol']],
    ['userName eq "nobody-9f1c2d3e"', []],
    ['emails[type eq "work"].value eq "carol@work.example"', ['carol']],
    ['emails[type eq "work"]', ['alice', 'carol']],
    ['not (emails pr)', ['bob']],
    ['meta.created gt "2026-01-01T00:00:00Z"', ['bob', 'carol']],
    ['active eq false', ['bob']],
    [`${ENTERPRISE}:costCenter eq "CC-2"`, ['carol']],
    ['roles eq "admin" or roles co "n"', ['alice', 'carol']],
    ['roles pr', ['alice', 'carol']],
    ['not (roles pr)', ['bob']],
    ['x-links[origin eq "entra"]', ['alice']],
    ['x-links[origin eq "okta"].key eq "O-3"', ['carol']],
    ['x-links[origin eq "okta"].key eq "E-1"', []],
    ['not (x-links[origin eq "entra" or key ew "3"])', ['bob']],
  ] as const)('%s', async (filter, expected) => {
    const rows = await database.db.selectFrom('users').select('users.id').where(compileFilter(convert(filter), schema, database.dialect)).execute();
    expect(rows.map((r) => r.id as string).sort()).toEqual([...expected].sort());
  });
});
