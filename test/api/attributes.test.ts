import { CompiledQuery, sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { AttributeIndexRepository } from '../../src/repositories/attribute-index-repository.js';
import { useTestApp, type TestApp } from '../helpers/test-app.js';

let t: TestApp;
let token: string;
useTestApp((app, adminToken) => {
  t = app;
  token = adminToken;
});

let seq = 0;
const unique = (prefix: string) => `${prefix}-${++seq}`;

async function createUser(payload: Record<string, unknown>) {
  return t.request({ method: 'POST', url: '/v1/users', token, payload: { userName: unique('u'), ...payload } });
}

async function define(payload: Record<string, unknown>) {
  const res = await t.request({ method: 'POST', url: '/v1/attribute-definitions', token, payload });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { id: string; name: string };
}

async function names(filter: string): Promise<string[]> {
  const res = await t.request({ method: 'GET', url: `/v1/users?$orderby=userName&$top=1000&$filter=${encodeURIComponent(filter)}`, token });
  expect(res.statusCode, `${filter}: ${res.body}`).toBe(200);
  return res.json().items.map((u: { userName: string }) => u.userName);
}

function expectInvalid(res: { statusCode: number; json(): unknown; body: string }, attribute: string, ...detail: string[]) {
  expect(res.statusCode, res.body).toBe(422);
  const body = res.json() as { code: string; detail: string; errors: { field: string; message: string }[] };
  expect(body.code).toBe('user.attribute_invalid');
  expect(body.detail).toContain(`"${attribute}"`);
  for (const d of detail) expect(body.detail).toContain(d);
  expect(body.errors.map((e) => e.field)).toContain(`/body/attributes/${attribute}`);
}

/** Stored before any definition existed: free-form, and later writes must still work. */
let legacy: { id: string; userName: string };

describe('without definitions', () => {
  it('attributes are free-form', async () => {
    const res = await createUser({ userName: 'legacy', attributes: { anything: { nested: [1, 'two'] }, shoeSize: '42', level: 'high' } });
    expect(res.statusCode, res.body).toBe(201);
    legacy = res.json();
  });
});

describe('with definitions', () => {
  beforeAll(async () => {
    await define({ name: 'shoeSize', type: 'number' });
    await define({ name: 'vip', type: 'boolean' });
    await define({ name: 'hired', type: 'date' });
    await define({ name: 'tier', type: 'enum', enumValues: ['gold', 'silver'] });
    await define({ name: 'skills', type: 'string', multiValued: true });
    await define({ name: 'costCode', type: 'string', required: true });
  });

  const valid = { costCode: 'CC1' };

  it('accepts values that match their definitions', async () => {
    const res = await createUser({
      attributes: { ...valid, shoeSize: 44.5, vip: true, hired: '2024-02-29', tier: 'gold', skills: ['ts', 'sql'] },
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().attributes).toEqual({ costCode: 'CC1', shoeSize: 44.5, vip: true, hired: '2024-02-29', tier: 'gold', skills: ['ts', 'sql'] });
    for (const hired of ['2024-01-31T09:30:00Z', '2024-01-31T09:30:00.123+02:00']) {
      expect((await createUser({ attributes: { ...valid, hired } })).statusCode, hired).toBe(201);
    }
    expect((await createUser({ attributes: { ...valid, skills: [], tier: null } })).statusCode).toBe(201);
  });

  it('refuses an unknown attribute, naming it', async () => {
    expectInvalid(await createUser({ attributes: { ...valid, shoesize: 44 } }), 'shoesize', 'not defined');
  });

  it('refuses a mistyped value, naming the attribute and the expected type', async () => {
    expectInvalid(await createUser({ attributes: { ...valid, shoeSize: '44' } }), 'shoeSize', 'a number', 'string "44"');
    expectInvalid(await createUser({ attributes: { ...valid, vip: 'yes' } }), 'vip', 'true or false');
    expectInvalid(await createUser({ attributes: { ...valid, costCode: 7 } }), 'costCode', 'a string');
    for (const hired of ['2024-02-30', '31/01/2024', '2024-01-31T09:30', '2024-01-31T09:30:00', 20240131]) {
      expectInvalid(await createUser({ attributes: { ...valid, hired } }), 'hired', "'YYYY-MM-DD'");
    }
  });

  it('refuses an enum value outside enumValues', async () => {
    expectInvalid(await createUser({ attributes: { ...valid, tier: 'bronze' } }), 'tier', "'gold', 'silver'");
    expectInvalid(await createUser({ attributes: { ...valid, tier: 'Gold' } }), 'tier');
  });

  it('wants multi-valued attributes as arrays of the type', async () => {
    expectInvalid(await createUser({ attributes: { ...valid, skills: 'ts' } }), 'skills', 'array of strings');
    expectInvalid(await createUser({ attributes: { ...valid, skills: ['ts', 3] } }), 'skills', 'element 1');
    expectInvalid(await createUser({ attributes: { ...valid, shoeSize: [42] } }), 'shoeSize', 'a number');
  });

  it('requires required attributes on create and replace, and lists every problem at once', async () => {
    expectInvalid(await createUser({ attributes: { shoeSize: 40 } }), 'costCode', 'required');
    const res = await createUser({ attributes: { shoeSize: 'big', nope: 1 } });
    expect(res.json().errors.map((e: { field: string }) => e.field).sort()).toEqual(['/body/attributes/costCode', '/body/attributes/nope', '/body/attributes/shoeSize']);

    const user = (await createUser({ attributes: { ...valid } })).json();
    const replaced = await t.request({ method: 'PUT', url: `/v1/users/${user.id}`, token, payload: { userName: user.userName, attributes: { shoeSize: 41 } } });
    expectInvalid(replaced, 'costCode', 'required');
  });

  it('checks PUT and PATCH whenever attributes change, and writes nothing when refused', async () => {
    const user = (await createUser({ attributes: { ...valid, shoeSize: 40 } })).json();
    expectInvalid(await t.request({ method: 'PATCH', url: `/v1/users/${user.id}`, token, payload: { attributes: { shoeSize: 'x' } } }), 'shoeSize');
    expectInvalid(await t.request({ method: 'PATCH', url: `/v1/users/${user.id}`, token, payload: { attributes: { costCode: null } } }), 'costCode', 'required');
    expectInvalid(await t.request({ method: 'PUT', url: `/v1/users/${user.id}`, token, payload: { userName: user.userName, attributes: { ...valid, tier: 'x' } } }), 'tier');
    expect((await t.request({ method: 'GET', url: `/v1/users/${user.id}`, token })).json()).toMatchObject({ version: 1, attributes: { costCode: 'CC1', shoeSize: 40 } });

    const patched = await t.request({ method: 'PATCH', url: `/v1/users/${user.id}`, token, payload: { attributes: { shoeSize: 41, tier: 'silver' } } });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json().attributes).toEqual({ costCode: 'CC1', shoeSize: 41, tier: 'silver' });
  });

  it('leaves a user stored before the definitions writable: only changed values are checked', async () => {
    const title = await t.request({ method: 'PATCH', url: `/v1/users/${legacy.id}`, token, payload: { title: 'Engineer' } });
    expect(title.statusCode, title.body).toBe(200);
    const more = await t.request({ method: 'PATCH', url: `/v1/users/${legacy.id}`, token, payload: { attributes: { vip: false } } });
    expect(more.statusCode, more.body).toBe(200);
    expectInvalid(await t.request({ method: 'PATCH', url: `/v1/users/${legacy.id}`, token, payload: { attributes: { shoeSize: '43' } } }), 'shoeSize');
  });
});

describe('typed attribute filters', () => {
  beforeAll(async () => {
    for (const [userName, attributes] of [
      ['f-9', { costCode: 'A', shoeSize: 9, vip: true, hired: '2023-06-01', tier: 'gold' }],
      ['f-10', { costCode: 'B', shoeSize: 10, vip: false, hired: '2024-01-31T09:30:00Z', tier: 'silver' }],
      ['f-42', { costCode: '42', shoeSize: 42, hired: '2025-03-01' }],
    ] as const) {
      const res = await createUser({ userName, attributes });
      expect(res.statusCode, res.body).toBe(201);
    }
  });

  it('compares numbers numerically (10 > 9), never the legacy string "42"', async () => {
    expect(await names("attributes/shoeSize gt 9 and startswith(userName,'f-')")).toEqual(['f-10', 'f-42']);
    expect(await names('attributes/shoeSize eq 42')).toEqual(['f-42']);
  });

  it('uses the declared type, not the literal: a quoted number for a number is a 400, a number for text too', async () => {
    for (const expression of ["attributes/shoeSize eq '42'", 'attributes/costCode eq 42', "attributes/vip eq 'true'", 'attributes/tier eq 1']) {
      const res = await t.request({ method: 'GET', url: `/v1/users?$filter=${encodeURIComponent(expression)}`, token });
      expect(res.statusCode, expression).toBe(400);
      expect(res.json().code).toBe('request.invalid_filter');
    }
    expect(await names("attributes/costCode eq '42'")).toEqual(['f-42']);
  });

  it('filters booleans, dates and enums', async () => {
    expect(await names("attributes/vip eq true and startswith(userName,'f-')")).toEqual(['f-9']);
    expect(await names("attributes/hired ge '2024-01-01' and startswith(userName,'f-')")).toEqual(['f-10', 'f-42']);
    expect(await names("attributes/tier in ('gold','silver') and startswith(userName,'f-')")).toEqual(['f-10', 'f-9']);
  });

  it('still infers the type for keys without a definition', async () => {
    expect(await names("attributes/level eq 'high'")).toEqual(['legacy']);
  });
});

describe('date attributes: one stored form, literals read the same way', () => {
  let shifted: { id: string; userName: string };
  beforeAll(async () => {
    await define({ name: 'hd', type: 'date' });
    await define({ name: 'hds', type: 'date', multiValued: true });
    // 01:00 at +05:00 is 20:00 UTC the day before.
    const res = await createUser({ userName: 'd-shifted', attributes: { costCode: 'D', hd: '2020-01-02T01:00:00+05:00', hds: ['2020-01-02T01:00:00+05:00', '2021-06-30'] } });
    expect(res.statusCode, res.body).toBe(201);
    shifted = res.json();
    expect((await createUser({ userName: 'd-dateonly', attributes: { costCode: 'D', hd: '2020-01-01' } })).statusCode).toBe(201);
  });

  it('stores date-times in UTC toISOString form and date-only values as written', async () => {
    expect(shifted).toMatchObject({ attributes: { hd: '2020-01-01T20:00:00.000Z', hds: ['2020-01-01T20:00:00.000Z', '2021-06-30'] } });
    const got = (await t.request({ method: 'GET', url: `/v1/users/${shifted.id}`, token })).json();
    expect(got.attributes).toMatchObject({ hd: '2020-01-01T20:00:00.000Z', hds: ['2020-01-01T20:00:00.000Z', '2021-06-30'] });
  });

  it('treats the same instant in another offset as no change', async () => {
    const same = await t.request({ method: 'PATCH', url: `/v1/users/${shifted.id}`, token, payload: { attributes: { hd: '2020-01-01T15:00:00-05:00' } } });
    expect(same.statusCode, same.body).toBe(200);
    expect(same.json().version).toBe(1);
    const moved = await t.request({ method: 'PATCH', url: `/v1/users/${shifted.id}`, token, payload: { attributes: { hds: ['2019-12-31T23:30:00-01:00'] } } });
    expect(moved.json()).toMatchObject({ version: 2, attributes: { hds: ['2020-01-01T00:30:00.000Z'] } });
    expect((await t.request({ method: 'PATCH', url: `/v1/users/${shifted.id}`, token, payload: { attributes: { hds: ['2020-01-02T01:00:00+05:00', '2021-06-30'] } } })).statusCode).toBe(200);
  });

  it('compares filter literals as instants, whatever offset they are written in', async () => {
    expect(await names("attributes/hd lt '2020-01-01T21:00:00Z'")).toEqual(['d-dateonly', 'd-shifted']);
    expect(await names('attributes/hd lt 2020-01-01T21:00:00Z')).toEqual(['d-dateonly', 'd-shifted']);
    expect(await names("attributes/hd eq '2020-01-01T20:00:00Z'")).toEqual(['d-shifted']);
    expect(await names("attributes/hd eq '2020-01-02T01:00:00.000+05:00'")).toEqual(['d-shifted']);
    expect(await names("attributes/hd gt '2020-01-01T19:59:59Z'")).toEqual(['d-shifted']);
    expect(await names("attributes/hd in ('2020-01-01T21:00:00+01:00', '1999-01-01')")).toEqual(['d-shifted']);
  });

  it('keeps a date-only literal date-only', async () => {
    expect(await names("attributes/hd eq '2020-01-01'")).toEqual(['d-dateonly']);
    expect(await names("attributes/hd ge '2020-01-01' and attributes/hd lt '2020-01-02'")).toEqual(['d-dateonly', 'd-shifted']);
  });

  it('refuses a literal that is no date', async () => {
    for (const expression of ["attributes/hd eq '2020-02-30'", "attributes/hd lt 'soon'", 'attributes/hd eq 5']) {
      const res = await t.request({ method: 'GET', url: `/v1/users?$filter=${encodeURIComponent(expression)}`, token });
      expect(res.statusCode, expression).toBe(400);
      expect(res.json()).toMatchObject({ code: 'request.invalid_filter' });
      expect(res.json().detail, expression).toContain('is a date');
    }
  });

  it('normalises multi-valued date elements and their any() literals', async () => {
    expect(await names("attributes/hds/any(d: d eq '2020-01-02T01:00:00+05:00')")).toEqual(['d-shifted']);
    expect(await names("attributes/hds/any(d: d eq '2021-06-30')")).toEqual(['d-shifted']);
    expect(await names("attributes/hds/any(d: d gt '2021-01-01')")).toEqual(['d-shifted']);
    expect(await names("attributes/hds/any(d: d lt '2019-01-01')")).toEqual([]);
  });
});

describe('multi-valued attributes in filters', () => {
  beforeAll(async () => {
    await define({ name: 't', type: 'string', multiValued: true });
    await define({ name: 'scores', type: 'number', multiValued: true });
    await define({ name: 'grades', type: 'enum', enumValues: ['a', 'b'], multiValued: true });
    for (const [userName, attributes] of [
      ['m-ab', { costCode: 'M', t: ['alpha', 'beta'], scores: [1, 20], grades: ['a'] }],
      ['m-g', { costCode: 'M', t: ['gamma'], scores: [5] }],
      ['m-empty', { costCode: 'M', t: [] }],
      ['m-none', { costCode: 'M' }],
    ] as const) {
      const res = await createUser({ userName, attributes });
      expect(res.statusCode, res.body).toBe(201);
    }
  });

  it('filters elements with any(), typed by the definition', async () => {
    expect(await names("attributes/t/any(v: v eq 'alpha')")).toEqual(['m-ab']);
    expect(await names("attributes/t/any(v: v eq 'alpha' or v eq 'gamma')")).toEqual(['m-ab', 'm-g']);
    expect(await names("attributes/t/any(v: startswith(v, 'g'))")).toEqual(['m-g']);
    expect(await names('attributes/scores/any(s: s gt 10)')).toEqual(['m-ab']);
    expect(await names('attributes/scores/any(s: s eq 5)')).toEqual(['m-g']);
    expect(await names("attributes/grades/any(g: g eq 'a')")).toEqual(['m-ab']);
    expect(await names("startswith(userName, 'm-') and not attributes/t/any(v: v eq 'alpha')")).toEqual(['m-empty', 'm-g', 'm-none']);
  });

  it('answers "has a value" and null tests on the whole list', async () => {
    expect(await names("startswith(userName, 'm-') and attributes/t eq null")).toEqual(['m-none']);
    expect(await names("startswith(userName, 'm-') and attributes/t ne null")).toEqual(['m-ab', 'm-empty', 'm-g']);
  });

  it('refuses a comparison with the whole list, pointing at any()', async () => {
    for (const expression of ["attributes/t eq 'alpha'", "attributes/t in ('alpha')", "contains(attributes/t, 'al')", 'attributes/scores gt 1']) {
      const res = await t.request({ method: 'GET', url: `/v1/users?$filter=${encodeURIComponent(expression)}`, token });
      expect(res.statusCode, expression).toBe(400);
      expect(res.json()).toMatchObject({ code: 'request.invalid_filter' });
      expect(res.json().detail, expression).toContain('/any(v: v eq');
    }
  });

  it('refuses a mistyped element literal, and any() on a single-valued attribute', async () => {
    const quoted = await t.request({ method: 'GET', url: `/v1/users?$filter=${encodeURIComponent("attributes/scores/any(s: s eq '5')")}`, token });
    expect(quoted.statusCode).toBe(400);
    const single = await t.request({ method: 'GET', url: `/v1/users?$filter=${encodeURIComponent("attributes/costCode/any(v: v eq 'M')")}`, token });
    expect(single.statusCode).toBe(400);
    expect(single.json().detail).toContain('multiValued');
  });
});

describe('indexed attributes', () => {
  const indexName = (name: string, type: 'string' | 'number' | 'boolean') => AttributeIndexRepository.indexName(name, type);
  const indexes = () => t.runtime.services.store.repos.attributeIndexes.list();

  it('names indexes deterministically, case-sensitively and within 63 characters', () => {
    expect(indexName('level', 'number')).toBe(indexName('level', 'number'));
    expect(indexName('level', 'number')).toMatch(/^users_attr_level_number_[0-9a-f]{8}$/);
    expect(indexName('Level', 'number')).not.toBe(indexName('level', 'number'));
    expect(indexName('a'.repeat(64), 'boolean').length).toBeLessThanOrEqual(63);
  });

  it('creates an index when an indexed definition is created or changed to indexed, and drops it when no longer wanted', async () => {
    const badge = await define({ name: 'badge', type: 'string' });
    expect(await indexes()).not.toContain(indexName('badge', 'string'));
    await t.request({ method: 'PATCH', url: `/v1/attribute-definitions/${badge.id}`, token, payload: { indexed: true } });
    expect(await indexes()).toContain(indexName('badge', 'string'));
    await t.request({ method: 'PATCH', url: `/v1/attribute-definitions/${badge.id}`, token, payload: { type: 'number' } });
    expect(await indexes()).toContain(indexName('badge', 'number'));
    expect(await indexes()).not.toContain(indexName('badge', 'string'));
    await t.request({ method: 'DELETE', url: `/v1/attribute-definitions/${badge.id}`, token });
    expect((await indexes()).filter((n) => n.includes('_badge_'))).toEqual([]);
  });

  it('makes attributes/<name> eq … use the index (EXPLAIN of the exact SQL the API ran)', async () => {
    await define({ name: 'level', type: 'number', indexed: true });
    await define({ name: 'team', type: 'string', indexed: true });
    await define({ name: 'remote', type: 'boolean', indexed: true });
    expect(await indexes()).toEqual(expect.arrayContaining([indexName('level', 'number'), indexName('team', 'string'), indexName('remote', 'boolean')]));

    // Enough rows that PostgreSQL's planner prefers the index on its own (after ANALYZE).
    const db = t.runtime.database.db;
    const { tenant_id: tenantId } = await db.selectFrom('users').select('tenant_id').executeTakeFirstOrThrow();
    const now = new Date().toISOString();
    const rows = Array.from({ length: 5000 }, (_, i) => ({
      id: `00000000-0000-7000-8000-${String(i).padStart(12, '0')}`,
      tenant_id: tenantId,
      user_name: `bulk${i}`,
      user_name_lower: `bulk${i}`,
      display_name: `Bulk ${i}`,
      external_ids: '[]',
      identifications: '[]',
      prevent_deprovision: t.dialect === 'sqlite' ? 0 : false,
      attributes: JSON.stringify({ costCode: 'X', level: i % 500, team: `team${i % 700}`, remote: i % 97 === 0 }),
      tags: '[]',
      profile: '{}',
      status: 'active',
      created_at: now,
      updated_at: now,
      version: 1,
    }));
    for (let i = 0; i < rows.length; i += 500) await db.insertInto('users').values(rows.slice(i, i + 500)).execute();
    await sql`analyze`.execute(db);

    for (const [filter, expected] of [
      ['attributes/level eq 7', 10],
      ["attributes/team eq 'team7'", 8],
      ['attributes/remote eq true', 52],
    ] as const) {
      const captured: { sql: string; parameters: readonly unknown[] }[] = [];
      const stop = t.runtime.database.observe((q) => captured.push(q));
      const res = await t.request({ method: 'GET', url: `/v1/users?$top=1000&$filter=${encodeURIComponent(filter)}`, token });
      stop();
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().items).toHaveLength(expected);
      const query = captured.find((q) => q.sql.startsWith('select * from "users"'));
      expect(query, captured.map((q) => q.sql).join('\n')).toBeDefined();
      const plan = await explain(query as { sql: string; parameters: readonly unknown[] });
      const name = indexName(filter.slice('attributes/'.length).split(' ')[0] as string, filter.endsWith('true') ? 'boolean' : filter.includes("'") ? 'string' : 'number');
      if (t.dialect === 'sqlite') expect(plan, plan).toContain(`USING INDEX ${name}`);
      else expect(plan, plan).toMatch(new RegExp(`(Index Scan|Bitmap Index Scan|Index Only Scan) (using|on) ${name}`));
    }
  });
});

async function explain(query: { sql: string; parameters: readonly unknown[] }): Promise<string> {
  const prefix = t.dialect === 'sqlite' ? 'explain query plan ' : 'explain ';
  const result = await t.runtime.database.db.executeQuery(CompiledQuery.raw(prefix + query.sql, [...query.parameters]));
  return (result.rows as Record<string, unknown>[]).map((r) => String(t.dialect === 'sqlite' ? r.detail : r['QUERY PLAN'])).join('\n');
}
