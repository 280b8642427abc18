import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../../src/errors/app-error.js';
import type { FilterNode } from '../../../src/filter/filter-ast.js';
import { compileFilter } from '../../../src/filter/filter-compiler.js';
import type { FilterSchema, JsonKeyType } from '../../../src/filter/filter-schema.js';
import { parseODataFilter } from '../../../src/filter/odata-filter-parser.js';
import { boolValue, dialectTargets, types, type TestDatabase } from './filter-test-databases.js';

const id = (n: number) => `00000000-0000-7000-8000-${String(n).padStart(12, '0')}`;
const [ALICE, BOB, CAROL, DAVE, PAT, EVE, ZED] = [1, 2, 3, 4, 5, 6, 7].map(id) as [string, string, string, string, string, string, string];
const NAMES: Record<string, string> = { [ALICE]: 'alice', [BOB]: 'bob', [CAROL]: 'carol', [DAVE]: 'dave', [PAT]: 'pat', [EVE]: 'eve', [ZED]: 'zed' };
const ALL = Object.values(NAMES);

interface Person {
  id: string;
  userName: string;
  email: string | null;
  displayName: string;
  familyName: string | null;
  department: string | null;
  status: string;
  version: number;
  active: boolean;
  createdAt: string;
  lastLoginAt: string | null;
  tags: string;
  attributes: string;
}

const people: Person[] = [
  { id: ALICE, userName: 'Alice', email: 'alice@example.com', displayName: 'Alice Adams', familyName: 'Adams', department: 'Sales', status: 'active', version: 1, active: true, createdAt: '2024-01-01T00:00:00.000Z', lastLoginAt: null, tags: '["admin","sales"]', attributes: '{"costCenter":"CC-100","level":3,"remote":true,"startDate":"2020-05-01T00:00:00.000Z"}' },
  { id: BOB, userName: 'Bob', email: null, displayName: 'Bob 50% Off', familyName: null, department: null, status: 'suspended', version: 2, active: false, createdAt: '2024-02-01T00:00:00.000Z', lastLoginAt: '2024-03-01T10:00:00.000Z', tags: '[]', attributes: '{"costCenter":100,"level":"high","remote":"yes"}' },
  { id: CAROL, userName: 'carol', email: 'Carol@EXAMPLE.com', displayName: 'carol_underscore', familyName: 'Clark', department: 'Engineering', status: 'active', version: 3, active: true, createdAt: '2024-03-01T00:00:00.000Z', lastLoginAt: null, tags: '["eng"]', attributes: '{}' },
  { id: DAVE, userName: 'Dave', email: 'dave@other.org', displayName: 'Dave\\Backslash', familyName: 'Doe', department: 'sales', status: 'active', version: 10, active: true, createdAt: '2024-04-01T00:00:00.000Z', lastLoginAt: '2024-04-02T00:00:00.000Z', tags: '["sales","eng"]', attributes: '{"level":10}' },
  { id: PAT, userName: "o'brien", email: null, displayName: "Pat O'Brien", familyName: "O'Brien", department: 'Support', status: 'disabled', version: 4, active: false, createdAt: '2024-05-01T00:00:00.000Z', lastLoginAt: null, tags: '["support"]', attributes: '{"costCenter":null}' },
  { id: EVE, userName: 'eve', email: '', displayName: 'Has 50 items', familyName: 'Evans', department: 'Support', status: 'active', version: 5, active: true, createdAt: '2024-06-01T00:00:00.000Z', lastLoginAt: null, tags: '{"not":"an array"}', attributes: '{"level":"7"}' },
  { id: ZED, userName: 'Zed', email: 'zed@example.com', displayName: 'Zed', familyName: 'Zimmer', department: 'Engineering', status: 'suspended', version: 6, active: false, createdAt: '2024-07-01T00:00:00.000Z', lastLoginAt: null, tags: '["admin"]', attributes: '{"startDate":"2019-01-01T00:00:00.000Z"}' },
];

const externalIds = [
  [ALICE, 'hr', 'E1'], [ALICE, 'ad', 'A1'], [BOB, 'hr', 'E2'], [DAVE, 'ad', 'A4'],
] as const;
const memberships = [[ALICE, 'Sales'], [DAVE, 'Sales'], [DAVE, 'Engineering'], [CAROL, 'Engineering']] as const;

const attributeTypes: Record<string, JsonKeyType> = { level: { type: 'number' }, startDate: { type: 'datetime' } };

const schema: FilterSchema = {
  fields: {
    id: { column: 'users.id', type: 'uuid' },
    userName: { column: 'users.user_name_lower', type: 'string', caseInsensitive: true },
    email: { column: 'users.email', type: 'string' },
    displayName: { column: 'users.display_name', type: 'string' },
    familyName: { column: 'users.family_name', type: 'string' },
    department: { column: 'users.department', type: 'string' },
    status: { column: 'users.status', type: 'enum', enumValues: ['active', 'suspended', 'disabled'] },
    version: { column: 'users.version', type: 'number' },
    active: { column: 'users.active', type: 'boolean' },
    createdAt: { column: 'users.created_at', type: 'datetime' },
    lastLoginAt: { column: 'users.last_login_at', type: 'datetime' },
    tags: { kind: 'jsonArray', column: 'users.tags', elementType: 'string' },
    attributes: {
      kind: 'jsonObject',
      column: 'users.attributes',
      resolveType: (name) => (Object.hasOwn(attributeTypes, name) ? attributeTypes[name] : undefined),
    },
    externalIds: {
      kind: 'collection',
      source: sql`user_external_ids as e`,
      correlate: sql`e.user_id = users.id`,
      fields: { origin: { column: 'e.origin', type: 'string' }, key: { column: 'e.key', type: 'string' } },
    },
    groups: {
      kind: 'collection',
      source: sql`user_groups ug join groups g on g.id = ug.group_id`,
      correlate: sql`ug.user_id = users.id`,
      fields: { name: { column: 'g.name', type: 'string' } },
    },
  },
};

const except = (...names: string[]) => ALL.filter((n) => !names.includes(n));

/** [filter, the users it must match]. One table, run on every dialect. */
const matching: [string, string[]][] = [
  ["userName eq 'ALICE'", ['alice']],
  ["userName eq 'alice' or userName eq 'BOB'", ['alice', 'bob']],
  ["userName eq 'O''Brien'", ['pat']],
  ["displayName eq 'alice adams'", []],
  ["displayName eq 'Alice Adams'", ['alice']],
  ["department eq 'Sales'", ['alice']],
  ["department ne 'Sales'", except('alice')],
  ["not (department eq 'Sales')", except('alice')],
  ["not department ne 'Sales'", ['alice']],
  ['department eq null', ['bob']],
  ['department ne null', except('bob')],
  ["department in ('Sales', 'Engineering', null)", ['alice', 'bob', 'carol', 'zed']],
  ["not (department in ('Sales', 'Engineering'))", ['bob', 'dave', 'eve', 'pat']],
  ["not (department in ('Sales', null))", ['carol', 'dave', 'eve', 'pat', 'zed']],
  ["familyName lt 'D'", ['alice', 'carol']],
  ["not (familyName lt 'D')", except('alice', 'carol')],
  ["contains(displayName,'50%')", ['bob']],
  ["contains(displayName,'_')", ['carol']],
  ["contains(displayName,'\\')", ['dave']],
  ["contains(displayName,'o''b')", ['pat']],
  ["startswith(displayName,'ALI')", ['alice']],
  ["endswith(email,'EXAMPLE.COM')", ['alice', 'carol', 'zed']],
  ["startswith(userName,'Ca')", ['carol']],
  ["not contains(familyName,'a')", ['bob', 'dave', 'pat', 'zed']],
  ["contains(familyName,'a') eq false", ['bob', 'dave', 'pat', 'zed']],
  ["contains(familyName,'a') ne true", ['bob', 'dave', 'pat', 'zed']],
  ["userName eq 'x'' or 1 eq 1'", []],
  ["userName eq 'x''; drop table users; --'", []],
  ["status eq 'ACTIVE'", ['alice', 'carol', 'dave', 'eve']],
  ["status in ('suspended','disabled')", ['bob', 'pat', 'zed']],
  ['version ge 2 and version lt 5', ['bob', 'carol', 'pat']],
  ['version eq 1.5', []],
  ['version gt 1.5 and version le 3', ['bob', 'carol']],
  ['version gt 3000000000', []],
  ['version gt -1e3', ALL],
  ['active eq true', ['alice', 'carol', 'dave', 'eve']],
  ['active ne true', ['bob', 'pat', 'zed']],
  ['createdAt ge 2024-06-01', ['eve', 'zed']],
  ["createdAt lt '2024-02-01T01:00:00+01:00'", ['alice']],
  ['createdAt gt 2024-03-31T23:00:00-02:00', ['eve', 'pat', 'zed']],
  ['createdAt ge 2024-03-31T22:00:00-02:00', ['dave', 'eve', 'pat', 'zed']],
  ['lastLoginAt eq null', ['alice', 'carol', 'eve', 'pat', 'zed']],
  ['lastLoginAt gt 2024-01-01', ['bob', 'dave']],
  [`id eq ${ALICE.toUpperCase()}`, ['alice']],
  [`id in ('${BOB}', ${CAROL})`, ['bob', 'carol']],
  ["attributes/costCenter eq 'CC-100'", ['alice']],
  ["attributes/costCenter eq '100'", []],
  ['attributes/costCenter eq 100', ['bob']],
  ["attributes/costCenter ne 'CC-100'", except('alice')],
  ['attributes/costCenter eq null', except('alice', 'bob')],
  ['attributes/costCenter ne null', ['alice', 'bob']],
  ["contains(attributes/costCenter,'cc')", ['alice']],
  ['attributes/level gt 5', ['dave']],
  ['attributes/level ge 3', ['alice', 'dave']],
  ['attributes/remote eq true', ['alice']],
  ['attributes/remote ne true', except('alice')],
  ['attributes/startDate gt 2020-01-01', ['alice']],
  ["attributes/unknownKey eq 'x'", []],
  ["attributes/constructor eq 'x'", []],
  ["tags/any(t: t eq 'sales')", ['alice', 'dave']],
  ["tags/any(t: t in ('eng'))", ['carol', 'dave']],
  ["tags/any(t: startswith(t,'AD'))", ['alice', 'zed']],
  ["tags/any(t: t ne 'sales')", ['alice', 'carol', 'dave', 'pat', 'zed']],
  ["not tags/any(t: t eq 'sales')", except('alice', 'dave')],
  ["tags/any(t: t eq 'admin' or t eq 'eng') and not tags/any(t: t eq 'sales')", ['carol', 'zed']],
  ["externalIds/any(e: e/origin eq 'hr' and e/key eq 'E2')", ['bob']],
  ["externalIds/any(e: e/origin eq 'ad')", ['alice', 'dave']],
  ["not externalIds/any(e: e/origin eq 'hr')", except('alice', 'bob')],
  ["groups/any(g: g/name eq 'Sales')", ['alice', 'dave']],
  ["groups/any(g: g/name eq 'Sales') and groups/any(g: g/name eq 'Engineering')", ['dave']],
  ["department eq 'Sales' or department eq 'Engineering' and status eq 'suspended'", ['alice', 'zed']],
  ["(department eq 'Sales' or department eq 'Engineering') and status eq 'active'", ['alice', 'carol']],
  ["NOT (Department EQ 'Sales')".replace('Department', 'department'), except('alice')],
];

/** Trees no OData text produces but the SCIM parser will: presence tests. */
const matchingTrees: [string, FilterNode, string[]][] = [
  ['email pr (empty string is no value)', { kind: 'present', path: ['email'] }, ['alice', 'carol', 'dave', 'zed']],
  ['not lastLoginAt pr', { kind: 'not', operand: { kind: 'present', path: ['lastLoginAt'] } }, ['alice', 'carol', 'eve', 'pat', 'zed']],
  ['tags pr (non-empty array)', { kind: 'present', path: ['tags'] }, ['alice', 'carol', 'dave', 'pat', 'zed']],
  ['externalIds pr', { kind: 'present', path: ['externalIds'] }, ['alice', 'bob', 'dave']],
  ['attributes/costCenter pr', { kind: 'present', path: ['attributes', 'costCenter'] }, ['alice', 'bob']],
];

/** [filter, a fragment the error message must contain]. */
const rejected: [string, string][] = [
  ['foo eq 1', "Unknown field 'foo'"],
  ['username eq 1', "Did you mean 'userName'"],
  ['userName eq 1', 'put the value in quotes'],
  ["version eq '1'", 'is a number'],
  ["active eq 'yes'", 'true or false'],
  ['active gt true', 'only be compared with eq, ne or in'],
  ["status eq 'gone'", "'active', 'suspended', 'disabled'"],
  ["id eq 'nope'", 'UUID'],
  ["createdAt gt 'yesterday'", 'date-time'],
  ['version gt null', 'Only eq and ne'],
  ["contains(version,'1')", 'only applies to text fields'],
  ["tags eq 'x'", 'is a list'],
  ["attributes eq 'x'", 'one key at a time'],
  ["attributes/level eq '10'", 'is a number'],
  ["userName/any(x: x eq 'a')", 'not a list'],
  ["externalIds/any(e: x/origin eq 'a')", 'paths start with the variable'],
  ["externalIds/any(e: e/nope eq 'a')", "Unknown field 'e/nope'"],
  ["externalIds/any(e: tags/any(t: t eq 'a'))", 'inside another any()'],
  ["externalIds/any(e: e/constructor eq 'a')", "Unknown field 'e/constructor'"],
  ["constructor/any(e: e/origin eq 'a')", 'not a list'],
  ["toString eq 'a'", "Unknown field 'toString'"],
  ["tags/any(t: t/x eq 'a')", 'single value'],
];

describe.each(dialectTargets)('filter compiler on $dialect', (target) => {
  let database: TestDatabase;

  beforeAll(async () => {
    if (!target.available) return;
    database = await target.open();
    await createTables(database);
  });
  afterAll(async () => database?.close());

  const run = async (ast: FilterNode) => {
    const rows = await database.db
      .selectFrom('users')
      .select('users.id')
      .where(compileFilter(ast, schema, database.dialect))
      .execute();
    return rows.map((r) => NAMES[r.id as string]).sort();
  };

  it.skipIf(!target.available).each(matching)('%s', async (filter, expected) => {
    expect(await run(parseODataFilter(filter))).toEqual([...expected].sort());
  });

  it.skipIf(!target.available).each(matchingTrees)('%s', async (_name, ast, expected) => {
    expect(await run(ast)).toEqual([...expected].sort());
  });

  it.skipIf(!target.available).each(rejected)('rejects %s', (filter, fragment) => {
    const attempt = () => compileFilter(parseODataFilter(filter), schema, database.dialect);
    expect(attempt).toThrow(AppError);
    expect(attempt).toThrow(fragment);
  });

  it.skipIf(!target.available)('rejects a nested any() built by another parser', () => {
    const nested: FilterNode = {
      kind: 'any', path: ['externalIds'], variable: 'e',
      predicate: { kind: 'any', path: ['tags'], variable: 't', predicate: { kind: 'compare', op: 'eq', path: ['t'], value: { type: 'string', value: 'x' } } },
    };
    expect(() => compileFilter(nested, schema, database.dialect)).toThrow('inside another any()');
  });

  it.skipIf(!target.available)('binds every value as a parameter', () => {
    const filter = "userName eq 'x'' or 1 eq 1' and attributes/costCenter eq 'drop' and tags/any(t: t eq 'y')";
    const compiled = database.db.selectFrom('users').selectAll().where(compileFilter(parseODataFilter(filter), schema, database.dialect)).compile();
    expect(compiled.sql).not.toContain("1 eq 1");
    expect(compiled.sql).not.toContain('drop');
    expect(compiled.parameters).toEqual(["x' or 1 eq 1", 'drop', 'y']);
  });

  it.skipIf(!target.available)('keeps an OR filter inside its parentheses next to other conditions', async () => {
    const rows = await database.db
      .selectFrom('users')
      .select('users.id')
      .where('users.status', '=', 'suspended')
      .where(compileFilter(parseODataFilter("userName eq 'alice' or userName eq 'bob'"), schema, database.dialect))
      .execute();
    expect(rows.map((r) => NAMES[r.id as string])).toEqual(['bob']);
  });

  it.skipIf(!target.available)('leaves the table intact after hostile filters', async () => {
    const { count } = await database.db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow();
    expect(Number(count)).toBe(people.length);
  });
});

async function createTables({ db, dialect }: TestDatabase) {
  const t = types(dialect);
  await sql`create table users (
    id ${t.text} primary key, user_name ${t.text} not null, user_name_lower ${t.text} not null, email ${t.text},
    display_name ${t.text} not null, family_name ${t.text}, department ${t.text}, status ${t.text} not null,
    version integer not null, active ${t.boolean} not null, created_at ${t.timestamp} not null,
    last_login_at ${t.timestamp}, tags ${t.json} not null, attributes ${t.json} not null)`.execute(db);
  await sql`create table user_external_ids (user_id ${t.text} not null, origin ${t.text} not null, key ${t.text} not null)`.execute(db);
  await sql`create table groups (id integer primary key, name ${t.text} not null)`.execute(db);
  await sql`create table user_groups (user_id ${t.text} not null, group_id integer not null)`.execute(db);
  await db.insertInto('users').values(people.map((p) => ({
    id: p.id, user_name: p.userName, user_name_lower: p.userName.toLowerCase(), email: p.email, display_name: p.displayName,
    family_name: p.familyName, department: p.department, status: p.status, version: p.version, active: boolValue(dialect, p.active),
    created_at: p.createdAt, last_login_at: p.lastLoginAt, tags: p.tags, attributes: p.attributes,
  }))).execute();
  await db.insertInto('user_external_ids').values(externalIds.map(([userId, origin, key]) => ({ user_id: userId, origin, key }))).execute();
  await db.insertInto('groups').values([{ id: 1, name: 'Sales' }, { id: 2, name: 'Engineering' }]).execute();
  await db.insertInto('user_groups').values(memberships.map(([userId, group]) => ({ user_id: userId, group_id: group === 'Sales' ? 1 : 2 }))).execute();
}
