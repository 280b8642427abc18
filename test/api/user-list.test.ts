import { deflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/test-app.js';

let t: TestApp;
let token: string;
const people = [
  { userName: 'ada', givenName: 'Ada', familyName: 'Lovelace', department: 'R&D', country: 'UK', email: 'ada@example.com', tags: ['math', 'founder'], attributes: { level: 7, remote: true, team: 'engines' }, externalIds: [{ origin: 'hr', key: '1' }] },
  { userName: 'grace', givenName: 'Grace', familyName: 'Hopper', department: 'R&D', country: 'US', email: 'grace@example.com', tags: ['navy'], attributes: { level: 9, remote: false, team: 'compilers' }, externalIds: [{ origin: 'hr', key: '2' }, { origin: 'sap', key: 'G' }] },
  { userName: 'alan', givenName: 'Alan', familyName: 'Turing', department: 'Crypto', country: 'UK', email: 'alan@example.com', tags: [], attributes: { level: 8 }, externalIds: [{ origin: 'hr', key: '3' }] },
  { userName: 'edsger', givenName: 'Edsger', familyName: 'Dijkstra', department: null, country: 'NL', email: null, tags: ['math'], attributes: { level: 'high' }, externalIds: [] },
  { userName: 'barbara', givenName: 'Barbara', familyName: 'Liskov', department: 'R&D', country: 'US', email: 'barbara@example.com', tags: [], attributes: {}, externalIds: [{ origin: 'hr', key: '5' }] },
  { userName: 'percent%_user', givenName: 'Per', familyName: 'Cent', department: '100%_sure', country: 'SE', email: 'p@example.com', tags: [], attributes: {}, externalIds: [] },
];

beforeAll(async () => {
  t = await createTestApp();
  token = await t.adminToken();
  for (const p of people) {
    const res = await t.request({ method: 'POST', url: '/v1/users', token, payload: p });
    expect(res.statusCode, res.body).toBe(201);
  }
  const alan = (await t.request({ method: 'GET', url: '/v1/users/by-username/alan', token })).json();
  await t.request({ method: 'POST', url: `/v1/users/${alan.id}/deactivate`, token });
});
afterAll(async () => {
  await t?.close();
});

async function names(query: string): Promise<string[]> {
  const res = await t.request({ method: 'GET', url: `/v1/users?${query}`, token });
  expect(res.statusCode, `${query}: ${res.body}`).toBe(200);
  return res.json().items.map((u: { userName: string }) => u.userName);
}
const filter = (f: string, extra = '') => names(`$filter=${encodeURIComponent(f)}&$orderby=userName${extra}`);

describe('$filter', () => {
  it.each([
    ["department eq 'R&D'", ['ada', 'barbara', 'grace']],
    ["department ne 'R&D'", ['alan', 'edsger', 'percent%_user']],
    ['department eq null', ['edsger']],
    ["userName eq 'ADA'", ['ada']],
    ["email eq 'GRACE@example.com'", ['grace']],
    ["contains(familyName,'o')", ['ada', 'barbara', 'grace']],
    ["startswith(givenName,'a')", ['ada', 'alan']],
    ["endswith(email,'@example.com') and country eq 'US'", ['barbara', 'grace']],
    ["country in ('UK','NL')", ['ada', 'alan', 'edsger']],
    ["not (country eq 'UK') and (department eq 'R&D' or department eq null)", ['barbara', 'edsger', 'grace']],
    ["status eq 'suspended'", ['alan']],
    ["status eq 'inactive'", ['alan']], // the former name of suspended, accepted for one release
    ['attributes/level ge 8', ['alan', 'grace']],
    ["attributes/team eq 'engines'", ['ada']],
    ['attributes/remote eq true', ['ada']],
    ["tags/any(t: t eq 'math')", ['ada', 'edsger']],
    ["externalIds/any(e: e/origin eq 'sap' and e/key eq 'G')", ['grace']],
    ["externalIds/any(e: e/origin eq 'hr')", ['ada', 'alan', 'barbara', 'grace']],
    ["contains(department,'%_')", ['percent%_user']],
    ["contains(userName,'_')", ['percent%_user']],
  ])('%s', async (expression, expected) => {
    expect(await filter(expression)).toEqual(expected);
  });

  it('treats hostile strings as data', async () => {
    const before = (await t.request({ method: 'GET', url: '/v1/users?$count=true', token })).json().count;
    for (const hostile of ["userName eq 'x'' or 1 eq 1'", "userName eq 'x'' or ''1''=''1'", "userName eq 'a''; drop table users; --'", "contains(userName,'%')"]) {
      const res = await t.request({ method: 'GET', url: `/v1/users?$filter=${encodeURIComponent(hostile)}`, token });
      expect(res.statusCode, hostile).toBe(200);
      expect(res.json().items.every((u: { userName: string }) => u.userName.includes('%'))).toBe(true);
    }
    expect((await t.request({ method: 'GET', url: '/v1/users?$count=true', token })).json().count).toBe(before);
  });

  it.each([
    ["userName eq 'x", 'unterminated'],
    ['password eq 1', 'unknown field'],
    ["userName eq 'x' or", 'dangling operator'],
    ["userName gt 5", 'wrong type'],
    ["(".repeat(100) + "userName eq 'x'" + ")".repeat(100), 'too deep'],
    ['createdAt gt 2024-13-45T00:00:00Z', 'bad date'],
    ["managerId eq 'not-a-uuid'", 'bad uuid'],
  ])('rejects %s (%s) with 400 request.invalid_filter', async (expression) => {
    const res = await t.request({ method: 'GET', url: `/v1/users?$filter=${encodeURIComponent(expression)}`, token });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('request.invalid_filter');
    expect(res.json().detail.length).toBeGreaterThan(10);
  });
});

describe('$orderby, $select, $top, $skip, $count', () => {
  it('orders by several keys with nulls last', async () => {
    expect(await names('$orderby=country desc,userName')).toEqual(['barbara', 'grace', 'ada', 'alan', 'percent%_user', 'edsger']);
    expect(await names('$orderby=department,userName')).toEqual(['percent%_user', 'alan', 'ada', 'barbara', 'grace', 'edsger']);
    const bad = await t.request({ method: 'GET', url: '/v1/users?$orderby=password', token });
    expect(bad.json().code).toBe('request.invalid_orderby');
  });

  it('selects fields (id always included)', async () => {
    const res = await t.request({ method: 'GET', url: '/v1/users?$select=userName,email&$top=1&$orderby=userName', token });
    expect(res.json().items[0]).toEqual({ id: expect.any(String), userName: 'ada', email: 'ada@example.com' });
    expect((await t.request({ method: 'GET', url: '/v1/users?$select=secret', token })).json().code).toBe('request.invalid_select');
  });

  it('takes * beside other fields as every field, still refusing unknown ones', async () => {
    const get = (select: string, path = '/v1/users?$top=1&$orderby=userName&') => t.request({ method: 'GET', url: `${path}$select=${encodeURIComponent(select)}`, token });
    const all = (await get('*')).json().items[0];
    expect(Object.keys(all).length).toBeGreaterThan(3);
    for (const select of ['*,email', 'email,*', 'userName, * ,userName']) {
      const res = await get(select);
      expect(res.statusCode, `${select}: ${res.body}`).toBe(200);
      expect(res.json().items[0], select).toEqual(all);
    }
    const one = await get('*,email', `/v1/users/${all.id}?`);
    expect(one.statusCode, one.body).toBe(200);
    expect(Object.keys(one.json()).sort()).toEqual(Object.keys(all).sort());
    const unknown = await get('*,secret');
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json()).toMatchObject({ code: 'request.invalid_select', detail: expect.stringContaining("'secret'") });
  });

  it('counts and skips', async () => {
    const res = await t.request({ method: 'GET', url: `/v1/users?$filter=${encodeURIComponent("department eq 'R&D'")}&$count=true&$top=1&$skip=1&$orderby=userName`, token });
    expect(res.json()).toMatchObject({ count: 3, items: [{ userName: 'barbara' }] });
    expect((await t.request({ method: 'GET', url: '/v1/users?$skip=1&cursor=abc', token })).json().code).toBe('request.invalid_paging');
  });
});

describe('keyset cursors', () => {
  it('walk every user exactly once, in order, for several orderings', async () => {
    for (const orderby of ['', 'familyName', 'country desc,givenName', 'department']) {
      const all = await names(`$top=1000${orderby ? `&$orderby=${orderby}` : ''}`);
      const walked: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const query: string = `$top=2${orderby ? `&$orderby=${orderby}` : ''}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
        const res = await t.request({ method: 'GET', url: `/v1/users?${query}`, token });
        const body = res.json();
        walked.push(...body.items.map((u: { userName: string }) => u.userName));
        cursor = body.nextCursor;
        pages++;
      } while (cursor && pages < 20);
      expect(walked, orderby).toEqual(all);
      expect(all).toHaveLength(people.length);
    }
  });

  it('keeps the filter across pages and rejects tampered or mismatched cursors', async () => {
    const f = encodeURIComponent("department eq 'R&D'");
    const page1 = (await t.request({ method: 'GET', url: `/v1/users?$filter=${f}&$top=2&$orderby=userName`, token })).json();
    const page2 = (await t.request({ method: 'GET', url: `/v1/users?$filter=${f}&$top=2&$orderby=userName&cursor=${encodeURIComponent(page1.nextCursor)}`, token })).json();
    expect([...page1.items, ...page2.items].map((u: { userName: string }) => u.userName)).toEqual(['ada', 'barbara', 'grace']);
    expect(page2.nextCursor).toBeNull();
    for (const cursor of ['garbage', 'eyJhIjoxfQ', page1.nextCursor.slice(0, -3)]) {
      const res = await t.request({ method: 'GET', url: `/v1/users?$orderby=userName&cursor=${encodeURIComponent(cursor)}`, token });
      expect(res.json().code, cursor).toBe('request.invalid_cursor');
    }
    const otherOrder = await t.request({ method: 'GET', url: `/v1/users?$orderby=familyName&cursor=${encodeURIComponent(page1.nextCursor)}`, token });
    expect(otherOrder.json().code).toBe('request.invalid_cursor');
  });
});

describe('cursors bound to the whole query', () => {
  const get = (query: string) => t.request({ method: 'GET', url: `/v1/users?${query}`, token });
  const rd = encodeURIComponent("department eq 'R&D'");
  const cursorOf = async (query: string): Promise<string> => {
    const res = await get(query);
    expect(res.statusCode, res.body).toBe(200);
    return res.json().nextCursor as string;
  };
  /** A structurally well-formed cursor in the current format, with parts replaced. */
  const forged = (parts: Record<string, unknown>) =>
    deflateRawSync(Buffer.from(JSON.stringify({ v: 1, r: 'users', f: null, s: [], l: null, n: 2, k: [], i: '0', ...parts }))).toString('base64url');

  it('continues the same query from nextCursor alone: page size and $select travel in it', async () => {
    const all = await names('$top=1000');
    const first = (await get('$top=2&$select=userName,email')).json();
    expect(first.items).toHaveLength(2);
    const second = await get(`cursor=${encodeURIComponent(first.nextCursor)}`);
    expect(second.statusCode, second.body).toBe(200);
    const body = second.json();
    expect(body.items).toHaveLength(2);
    for (const item of body.items) expect(Object.keys(item).sort()).toEqual(['email', 'id', 'userName']);
    const third = (await get(`cursor=${encodeURIComponent(body.nextCursor)}`)).json();
    expect([...first.items, ...body.items, ...third.items].map((u: { userName: string }) => u.userName)).toEqual(all);
  });

  it('keeps the filter and order of the cursor when they are left out', async () => {
    const cursor = await cursorOf(`$filter=${rd}&$orderby=userName desc&$top=1`);
    const rest = (await get(`cursor=${encodeURIComponent(cursor)}&$top=1`)).json();
    expect(rest.items.map((u: { userName: string }) => u.userName)).toEqual(['barbara']);
    const last = (await get(`cursor=${encodeURIComponent(rest.nextCursor)}&$count=true`)).json();
    expect(last).toMatchObject({ items: [{ userName: 'ada' }], nextCursor: null, count: 3 });
  });

  it('accepts the same query written differently', async () => {
    const cursor = encodeURIComponent(await cursorOf(`$filter=${rd}&$orderby=userName&$select=userName,email&$top=2`));
    const respaced = encodeURIComponent("  department   eq 'R&D' ");
    const res = await get(`$filter=${respaced}&$orderby=userName asc&$select=email, userName&$top=2&cursor=${cursor}`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().items).toEqual([{ id: expect.any(String), userName: 'grace', email: 'grace@example.com' }]);
  });

  it.each([
    ['$filter', `$filter=${encodeURIComponent("department eq 'Crypto'")}`],
    ['$filter', '$filter='],
    ['$orderby', '$orderby=familyName'],
    ['$select', '$select=userName'],
    ['$select', '$select=*'],
    ['$top', '$top=3'],
  ])('refuses a cursor sent with another %s (%s), naming it', async (parameter, other) => {
    const cursor = encodeURIComponent(await cursorOf(`$filter=${rd}&$orderby=userName&$select=userName,email&$top=2`));
    const res = await get(`${other}&cursor=${cursor}`);
    expect(res.statusCode).toBe(400);
    const problem = res.json();
    expect(problem.code).toBe('request.invalid_cursor');
    expect(problem.errors.map((e: { field: string }) => e.field)).toEqual(['cursor', parameter]);
    expect(problem.detail).toContain(parameter);
  });

  it('refuses a cursor of another list', async () => {
    await t.request({ method: 'POST', url: '/v1/roles', token, payload: { name: 'cursor-role-1' } });
    await t.request({ method: 'POST', url: '/v1/roles', token, payload: { name: 'cursor-role-2' } });
    const roles = (await t.request({ method: 'GET', url: '/v1/roles?$top=1', token })).json();
    const res = await get(`cursor=${encodeURIComponent(roles.nextCursor)}`);
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('request.invalid_cursor');
  });

  const nest = (depth: number): unknown => (depth === 0 ? { kind: 'present', path: ['userName'] } : { kind: 'not', operand: nest(depth - 1) });
  it.each([
    ['a node kind the compiler does not know', { f: { kind: 'raw', sql: 'true' } }],
    ['SQL in a field path', { f: { kind: 'present', path: ["userName is not null) or (1=1"] } }],
    ['an extra property on a node', { f: { kind: 'present', path: ['userName'], column: 'password_hash' } }],
    ['a literal of the wrong type', { f: { kind: 'compare', op: 'eq', path: ['userName'], value: { type: 'string', value: 42 } } }],
    ['a field outside the whitelist', { f: { kind: 'compare', op: 'eq', path: ['password'], value: { type: 'string', value: 'x' } } }],
    ['an operator that does not exist', { f: { kind: 'compare', op: 'like', path: ['userName'], value: { type: 'string', value: '%' } } }],
    ['a filter nested 1000 levels deep', { f: nest(1000) }],
    ['a sort field outside the whitelist', { s: [['password', 'asc']], k: ['x'] }],
    ['a sort value of the wrong type', { s: [['createdAt', 'asc']], k: [42] }],
    ['a field selection that does not exist', { l: ['passwordHash'] }],
    ['a page size beyond the maximum', { n: 100_000 }],
    ['an unknown property', { x: 1 }],
  ])('answers a tampered cursor with %s with a 400', async (_name, parts) => {
    const res = await get(`cursor=${forged(parts)}`);
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().code).toMatch(/^request\.invalid_(cursor|filter|orderby)$/);
  });

  it('accepts a well-formed cursor built by hand, so the checks above are what refuse the others', async () => {
    const res = await get(`cursor=${forged({ f: { kind: 'compare', op: 'eq', path: ['country'], value: { type: 'string', value: 'UK' } } })}`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().items.length).toBeGreaterThan(0);
  });
});

describe('errors name the OData parameter', () => {
  it.each([
    ['$filter', 'request.invalid_filter', `$filter=${encodeURIComponent('password eq 1')}`],
    ['$filter', 'request.invalid_filter', `$filter=${encodeURIComponent("userName eq 'x")}`],
    ['$orderby', 'request.invalid_orderby', '$orderby=password'],
    ['$orderby', 'request.invalid_orderby', '$orderby=userName sideways'],
    ['$select', 'request.invalid_select', '$select=secret'],
    ['$expand', 'request.invalid_expand', '$expand=secrets'],
    ['cursor', 'request.invalid_cursor', 'cursor=garbage'],
    ['$skip', 'request.invalid_paging', '$skip=1&cursor=abc'],
  ])('%s in errors[].field (%s for %s)', async (parameter, code, query) => {
    const res = await t.request({ method: 'GET', url: `/v1/users?${query}`, token });
    expect(res.statusCode).toBe(400);
    const problem = res.json();
    expect(problem.code).toBe(code);
    expect(problem.errors[0].field).toBe(parameter);
    expect(problem.detail).toContain(parameter);
  });

  it('on directory lists too', async () => {
    const res = await t.request({ method: 'GET', url: '/v1/groups?$orderby=secret', token });
    expect(res.json()).toMatchObject({ code: 'request.invalid_orderby', errors: [{ field: '$orderby' }] });
    expect(res.json().detail).toMatch(/^\$orderby: Cannot sort by 'secret'/);
  });
});
