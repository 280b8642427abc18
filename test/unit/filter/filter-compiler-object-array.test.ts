import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../../src/errors/app-error.js';
import type { FilterNode } from '../../../src/filter/filter-ast.js';
import { compileFilter } from '../../../src/filter/filter-compiler.js';
import { describeFields, type FilterSchema } from '../../../src/filter/filter-schema.js';
import { scimPathKey } from '../../../src/filter/scim-filter-ast.js';
import { toFilterNode, type ScimAttributeResolver } from '../../../src/filter/scim-filter-converter.js';
import { parseScimFilter } from '../../../src/filter/scim-filter-parser.js';
import { parseODataFilter } from '../../../src/filter/odata-filter-parser.js';
import { dialectTargets, types, type TestDatabase } from './filter-test-databases.js';

/**
 * jsonObjectArray fields: SCIM's multi-valued attributes (emails, phoneNumbers…) kept as arrays
 * of objects under a key of one JSON column. Every case runs on SQLite and PostgreSQL and must
 * give the same rows, including for data of the wrong shape.
 */
const profiles: Record<string, string | null> = {
  none: '{"name":{"givenName":"No"}}',
  empty: '{"emails":[]}',
  ann: '{"emails":[{"value":"Ann@Example.com","type":"work","primary":true,"display":"Ann W","rank":1,"verifiedAt":"2024-01-01T00:00:00.000Z"}]}',
  bo: JSON.stringify({
    emails: [
      { value: 'bo@home.org', type: 'home', primary: false, rank: 2 },
      { value: 'BO@Work.com', type: 'Work', display: 'Bo' },
      { value: 'bo2@work.com', type: 'work', primary: true, rank: 3, verifiedAt: '2024-06-01T00:00:00.000Z' },
    ],
  }),
  // Not an array: treated as no elements.
  obj: '{"emails":{"value":"obj@work.com","type":"work","primary":true}}',
  str: '{"emails":"str@work.com"}',
  enull: '{"emails":null}',
  nul: null,
  // Elements that are not objects, and keys holding JSON of the wrong type.
  odd: JSON.stringify({
    emails: ['prim@work.com', 5, null, [{ value: 'nested@work.com' }], { value: 7, type: 'work', primary: 'yes', rank: '4' }, { value: 'odd@work.com', type: 'other', primary: null }],
  }),
  // Only ASCII letters fold, the same on both databases.
  eva: '{"emails":[{"value":"ÉVA@Example.com","type":"work","primary":true}]}',
};
const ALL = Object.keys(profiles);
const except = (...names: string[]) => ALL.filter((n) => !names.includes(n));

const schema: FilterSchema = {
  fields: {
    name: { column: 'people.name', type: 'string' },
    emails: {
      kind: 'jsonObjectArray',
      column: 'people.profile',
      key: 'emails',
      fields: {
        value: { type: 'string', caseInsensitive: true },
        type: { type: 'string', caseInsensitive: true },
        display: { type: 'string' },
        primary: { type: 'boolean' },
        rank: { type: 'number' },
        verifiedAt: { type: 'datetime' },
      },
    },
  },
};

/** [OData filter, the rows it must match]. */
const matching: [string, string[]][] = [
  ["emails/any(e: e/type eq 'work')", ['ann', 'bo', 'eva', 'odd']],
  ["emails/any(e: e/type eq 'WORK' and e/primary eq true)", ['ann', 'bo', 'eva']],
  ['emails/any(e: e/primary eq false)', ['bo']],
  ['emails/any(e: e/primary ne true)', ['bo', 'odd']],
  ["emails/any(e: e/value eq 'ann@example.com')", ['ann']],
  ["emails/any(e: e/value eq 'bo@WORK.com')", ['bo']],
  ["emails/any(e: e/value eq 'obj@work.com' or e/value eq 'str@work.com' or e/value eq 'prim@work.com')", []],
  ["emails/any(e: e/value eq 'nested@work.com')", []],
  ["emails/any(e: e/value eq 'Éva@EXAMPLE.COM')", ['eva']],
  ["emails/any(e: e/value eq 'éva@example.com')", []],
  ["emails/any(e: e/display eq 'Bo')", ['bo']],
  ["emails/any(e: e/display eq 'bo')", []],
  ["emails/any(e: contains(e/value,'@WORK'))", ['bo', 'odd']],
  ["emails/any(e: startswith(e/value,'ann@'))", ['ann']],
  ["emails/any(e: endswith(e/value,'.ORG'))", ['bo']],
  ["emails/any(e: contains(e/value,'%'))", []],
  ['emails/any(e: e/rank gt 1)', ['bo']],
  ['emails/any(e: e/rank le 1)', ['ann']],
  ['emails/any(e: e/rank ge 2.5)', ['bo']],
  ['emails/any(e: e/rank eq 4)', []],
  ['emails/any(e: e/verifiedAt ge 2024-03-01)', ['bo']],
  ['emails/any(e: e/verifiedAt lt 2024-03-01T00:00:00+01:00)', ['ann']],
  ["emails/any(e: e/type in ('HOME', 'other'))", ['bo', 'odd']],
  ["emails/any(e: e/type ne 'work')", ['bo', 'odd']],
  ["emails/any(e: not (e/type eq 'work'))", ['bo', 'odd']],
  ["not emails/any(e: e/type eq 'work')", except('ann', 'bo', 'eva', 'odd')],
  ["not emails/any(e: e/type eq 'work' and e/primary eq true)", except('ann', 'bo', 'eva')],
  ["emails/any(e: e/type eq 'work') and not emails/any(e: e/primary eq true)", ['odd']],
  ["emails/any(e: e/type eq 'home') or emails/any(e: e/value eq 'odd@work.com')", ['bo', 'odd']],
  // One element must satisfy the whole predicate: bo's home address is not its primary one.
  ["emails/any(e: e/type eq 'home' and e/primary eq true)", []],
  ['emails/any(e: e/display eq null)', ['bo', 'eva', 'odd']],
  ["name eq 'ann' and emails/any(e: e/primary eq true)", ['ann']],
];

const present = (path: string[]): FilterNode => ({ kind: 'present', path });
const anyEmail = (predicate: FilterNode): FilterNode => ({ kind: 'any', path: ['emails'], variable: 'e', predicate });

/** Trees only the SCIM side produces: presence of the list and of element keys. */
const matchingTrees: [string, FilterNode, string[]][] = [
  ['emails pr (a non-empty array)', present(['emails']), ['ann', 'bo', 'eva', 'odd']],
  ['not (emails pr)', { kind: 'not', operand: present(['emails']) }, except('ann', 'bo', 'eva', 'odd')],
  ['emails[display pr]', anyEmail(present(['e', 'display'])), ['ann', 'bo']],
  ['emails[rank pr]', anyEmail(present(['e', 'rank'])), ['ann', 'bo']],
  ['emails[not (primary pr)]', anyEmail({ kind: 'not', operand: present(['e', 'primary']) }), ['bo', 'odd']],
  ['not emails[primary pr]', { kind: 'not', operand: anyEmail(present(['e', 'primary'])) }, except('ann', 'bo', 'eva')],
];

const ELEMENT_KEYS: Record<string, string> = { value: 'value', type: 'type', display: 'display', primary: 'primary', rank: 'rank', verifiedat: 'verifiedAt' };
/** As the SCIM adapter maps emails: a list whose plain `emails` means `emails.value`. */
const resolve: ScimAttributeResolver = (reference) => {
  const key = scimPathKey(reference);
  if (key !== 'emails' && !key.startsWith('emails.')) return key === 'name' ? ['name'] : undefined;
  return { kind: 'collection', path: ['emails'], element: (sub) => (sub === undefined ? ['value'] : Object.hasOwn(ELEMENT_KEYS, sub.toLowerCase()) ? [ELEMENT_KEYS[sub.toLowerCase()] as string] : undefined) };
};

/** [SCIM filter, the rows it must match], through the parser, the converter and the compiler. */
const scimMatching: [string, string[]][] = [
  ['emails[type eq "work" and primary eq true].value eq "BO2@work.com"', ['bo']],
  ['emails[type eq "work" and primary eq true].value eq "bo@work.com"', []],
  ['emails[type eq "home"]', ['bo']],
  ['emails.value co "@work"', ['bo', 'odd']],
  ['emails co "@WORK"', ['bo', 'odd']],
  ['emails.value ew ".org"', ['bo']],
  ['emails pr', ['ann', 'bo', 'eva', 'odd']],
  ['not (emails pr)', except('ann', 'bo', 'eva', 'odd')],
  ['emails[primary eq true] and not (emails[type eq "work"])', []],
  ['emails[not (type eq "work")]', ['bo', 'odd']],
  ['emails.rank gt 2 or emails.verifiedAt lt "2024-02-01T00:00:00Z"', ['ann', 'bo']],
];

/** [filter, a fragment the error message must contain]. */
const rejected: [string, string][] = [
  ["emails/any(e: e/nope eq 'x')", "Unknown field 'e/nope' in emails/any(...). Allowed: e/value, e/type"],
  ["emails/any(e: e/Value eq 'x')", "Did you mean 'e/value'"],
  ["emails/any(e: e eq 'x')", "Unknown field 'e'"],
  ["emails/any(e: e/value/x eq 'x')", "Unknown field 'e/value/x'"],
  ["emails/any(e: e/constructor eq 'x')", "Unknown field 'e/constructor'"],
  ["emails/any(e: x/value eq 'x')", 'paths start with the variable'],
  ["emails/any(e: e/primary eq 'yes')", 'true or false'],
  ["emails/any(e: e/rank eq '1')", 'is a number'],
  ['emails/any(e: e/value eq 1)', 'put the value in quotes'],
  ['emails/any(e: e/primary gt true)', 'only be compared with eq, ne or in'],
  ["emails/any(e: contains(e/rank,'1'))", 'only applies to text fields'],
  ["emails/any(e: e/verifiedAt gt 'soon')", 'date-time'],
  ["emails eq 'x'", "'emails' is a list; filter it with a lambda, e.g. emails/any(x: x/value eq …)"],
  ["name/any(e: e/value eq 'x')", 'not a list'],
  ["emails/any(e: emails/any(f: f/value eq 'x'))", 'inside another any()'],
  ["mails/any(e: e/value eq 'x')", 'Allowed: emails'],
];

describe.each(dialectTargets)('jsonObjectArray filters on $dialect', (target) => {
  let database: TestDatabase;

  beforeAll(async () => {
    if (!target.available) return;
    database = await target.open();
    const t = types(target.dialect);
    await sql`create table people (name ${t.text} primary key, profile ${t.json})`.execute(database.db);
    await database.db.insertInto('people').values(Object.entries(profiles).map(([name, profile]) => ({ name, profile }))).execute();
  });
  afterAll(async () => database?.close());

  const run = async (ast: FilterNode) => {
    const rows = await database.db.selectFrom('people').select('people.name').where(compileFilter(ast, schema, database.dialect)).execute();
    return rows.map((r) => r.name as string).sort();
  };

  // PostgreSQL is "available" when TEST_DATABASE_URL is set: always in CI (vitest.config.ts
  // refuses to run there without it), so these skip only on a developer's machine without it.
  it.skipIf(!target.available).each(matching)('%s', async (filter, expected) => {
    expect(await run(parseODataFilter(filter))).toEqual([...expected].sort());
  });

  it.skipIf(!target.available).each(matchingTrees)('%s', async (_name, ast, expected) => {
    expect(await run(ast)).toEqual([...expected].sort());
  });

  it.skipIf(!target.available).each(scimMatching)('SCIM %s', async (filter, expected) => {
    expect(await run(toFilterNode(parseScimFilter(filter), resolve))).toEqual([...expected].sort());
  });

  it.skipIf(!target.available).each(rejected)('rejects %s', (filter, fragment) => {
    const attempt = () => compileFilter(parseODataFilter(filter), schema, database.dialect);
    expect(attempt).toThrow(AppError);
    expect(attempt).toThrow(fragment);
  });

  it.skipIf(!target.available)('binds element values as parameters and inlines only schema keys', () => {
    const filter = "emails/any(e: e/value eq 'x'' or 1 eq 1' and e/type eq 'WORK')";
    const compiled = database.db.selectFrom('people').selectAll().where(compileFilter(parseODataFilter(filter), schema, database.dialect)).compile();
    expect(compiled.sql).not.toContain('1 eq 1');
    expect(compiled.parameters).toEqual(["x' or 1 eq 1", 'work']);
  });

  it.skipIf(!target.available)('refuses a schema whose array key is not a plain name', () => {
    const bad: FilterSchema = { fields: { emails: { kind: 'jsonObjectArray', column: 'people.profile', key: "emails') or 1=1 --", fields: { value: { type: 'string' } } } } };
    expect(() => compileFilter(present(['emails']), bad, database.dialect)).toThrow('not a plain name');
  });
});

describe('describeFields with a jsonObjectArray', () => {
  it('shows the lambda form with the first element key', () => {
    expect(describeFields(schema)).toEqual(['name', 'emails/any(x: x/value eq …)']);
  });
});
