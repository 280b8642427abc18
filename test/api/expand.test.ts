import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/test-app.js';

let t: TestApp;
let token: string;

type Rec = { id: string; name: string; [k: string]: unknown };
type DirectoryName = 'hq' | 'engineering' | 'engineer' | 'admin' | 'viewer' | 'sales' | 'apac' | 'acme' | 'prod' | 'test' | 'entra';
const d = {} as Record<DirectoryName, Rec>;
const users = {} as Record<'boss' | 'ada' | 'grace', { id: string; userName: string }>;

async function post(path: string, payload: Record<string, unknown>) {
  const res = await t.request({ method: 'POST', url: `/v1/${path}`, token, payload });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

async function get(url: string) {
  const res = await t.request({ method: 'GET', url, token });
  expect(res.statusCode, `${url}: ${res.body}`).toBe(200);
  return res.json();
}

/**
 * Memberships are rows in user_groups etc.; tests write them directly so this file depends only
 * on the users API (the memberships API has tests of its own).
 */
async function member(table: 'user_roles' | 'user_groups' | 'user_organizations', column: 'role_id' | 'group_id' | 'organization_id', user: string, target: string) {
  const { tenant_id } = await t.runtime.database.db.selectFrom('users').select('tenant_id').where('id', '=', user).executeTakeFirstOrThrow();
  await t.runtime.database.db.insertInto(table).values({ tenant_id, user_id: user, [column]: target, created_at: new Date().toISOString() } as never).execute();
}

beforeAll(async () => {
  t = await createTestApp();
  token = await t.adminToken();
  d.hq = await post('areas', { name: 'HQ' });
  d.engineering = await post('areas', { name: 'Engineering', parentId: d.hq.id });
  d.engineer = await post('positions', { name: 'Engineer', areaId: d.engineering.id });
  d.admin = await post('roles', { name: 'Admin', weight: 90, permissions: ['users.write'] });
  d.viewer = await post('roles', { name: 'Viewer', weight: 10 });
  d.sales = await post('groups', { name: 'Sales', description: 'EMEA' });
  d.apac = await post('groups', { name: 'APAC' });
  d.acme = await post('organizations', { name: 'Acme Inc', code: 'ACME' });
  d.prod = await post('environments', { name: 'Prod' });
  d.test = await post('environments', { name: 'Test' });
  d.entra = await post('identity-providers', { name: 'Entra', alias: 'entra', type: 'azure-ad' });

  const create = async (payload: Record<string, unknown>) => post('users', payload);
  users.boss = await create({ userName: 'boss', givenName: 'Big', familyName: 'Boss' });
  users.ada = await create({ userName: 'ada', email: 'ada@example.com', managerId: users.boss.id, positionId: d.engineer.id, areaId: d.engineering.id });
  users.grace = await create({ userName: 'grace' });
  for (let i = 0; i < 6; i++) await create({ userName: `extra${i}`, managerId: users.boss.id });

  await member('user_groups', 'group_id', users.ada.id, d.sales.id);
  await member('user_groups', 'group_id', users.ada.id, d.apac.id);
  await member('user_groups', 'group_id', users.boss.id, d.sales.id);
  await member('user_roles', 'role_id', users.ada.id, d.viewer.id);
  await member('user_roles', 'role_id', users.boss.id, d.admin.id);
  await member('user_organizations', 'organization_id', users.ada.id, d.acme.id);
  const db = t.runtime.database.db;
  const { tenant_id } = await db.selectFrom('users').select('tenant_id').where('id', '=', users.ada.id).executeTakeFirstOrThrow();
  const now = new Date().toISOString();
  await db.insertInto('user_environments').values({ tenant_id, user_id: users.ada.id, environment_id: d.prod.id, permissions: JSON.stringify(['view', 'run']), created_at: now }).execute();
  await db.insertInto('user_environments').values({ tenant_id, user_id: users.grace.id, environment_id: d.test.id, permissions: JSON.stringify(['admin']), created_at: now }).execute();
  await db.insertInto('user_identities').values({ id: '0190a0a0-0000-7000-8000-00000000000a', tenant_id, user_id: users.ada.id, provider_id: d.entra.id, subject: 'ada-sub', user_name: 'ada@corp', created_at: now }).execute();
  await db.insertInto('user_identities').values({ id: '0190a0a0-0000-7000-8000-00000000000b', tenant_id, user_id: users.grace.id, provider_id: d.entra.id, subject: 'grace-sub', user_name: null, created_at: now }).execute();
});
afterAll(async () => {
  await t?.close();
});

describe('$expand on GET /v1/users/{id}', () => {
  it("maps the seed's position($select=name),area($select=name),userGroups($select=name) to groups", async () => {
    const res = await t.request({ method: 'GET', url: `/v1/users/${users.ada.id}?$expand=position($select=name),area($select=name),groups($select=name)`, token });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers.etag).toBe('W/"1"');
    const ada = res.json();
    expect(ada).toMatchObject({ id: users.ada.id, userName: 'ada', positionId: d.engineer.id });
    expect(ada.position).toEqual({ id: d.engineer.id, name: 'Engineer' });
    expect(ada.area).toEqual({ id: d.engineering.id, name: 'Engineering' });
    expect(ada.groups).toEqual([{ id: d.apac.id, name: 'APAC' }, { id: d.sales.id, name: 'Sales' }]);
    expect(ada).not.toHaveProperty('roles');
  });

  it('expands every relation, whole records without a nested $select', async () => {
    const all = 'manager,position,area,roles,groups,organizations,environments,identities';
    const ada = await get(`/v1/users/${users.ada.id}?$expand=${all}`);
    expect(ada.manager).toMatchObject({ id: users.boss.id, userName: 'boss', displayName: 'Big Boss', version: 1 });
    expect(ada.manager).not.toHaveProperty('tenantId');
    expect(ada.position).toEqual({ id: d.engineer.id, name: 'Engineer', areaId: d.engineering.id, createdAt: expect.any(String), updatedAt: expect.any(String), version: 1 });
    expect(ada.area).toMatchObject({ id: d.engineering.id, name: 'Engineering', parentId: d.hq.id });
    expect(ada.roles).toEqual([expect.objectContaining({ id: d.viewer.id, name: 'Viewer', weight: 10, permissions: [] })]);
    expect(ada.groups.map((g: Rec) => g.name)).toEqual(['APAC', 'Sales']);
    expect(ada.groups[1]).toMatchObject({ description: 'EMEA', externalIds: [] });
    expect(ada.organizations).toEqual([expect.objectContaining({ id: d.acme.id, name: 'Acme Inc', code: 'ACME', parentId: null })]);
    expect(ada.environments).toEqual([expect.objectContaining({ id: d.prod.id, name: 'Prod', permissions: ['view', 'run'] })]);
    expect(ada.identities).toEqual([
      { id: '0190a0a0-0000-7000-8000-00000000000a', providerId: d.entra.id, providerName: 'Entra', providerAlias: 'entra', subject: 'ada-sub', userName: 'ada@corp', createdAt: expect.any(String) },
    ]);

    const grace = await get(`/v1/users/${users.grace.id}?$expand=${all}`);
    expect(grace).toMatchObject({ manager: null, position: null, area: null, roles: [], groups: [], organizations: [] });
    expect(grace.environments).toEqual([expect.objectContaining({ name: 'Test', permissions: ['admin'] })]);
  });

  it('works on the by-username and by-external-id lookups too', async () => {
    expect((await get('/v1/users/by-username/ADA?$expand=roles($select=name)')).roles).toEqual([{ id: d.viewer.id, name: 'Viewer' }]);
  });

  it('refuses unknown relations and fields with 400 request.invalid_expand, before looking the user up', async () => {
    for (const expand of ['bogus', 'groups($select=secret)', 'groups,groups', 'groups($filter=x)', 'manager($select=tenantId)']) {
      for (const id of [users.ada.id, '0190a0a0-0000-7000-8000-000000000000']) {
        const res = await t.request({ method: 'GET', url: `/v1/users/${id}?$expand=${encodeURIComponent(expand)}`, token });
        expect(res.statusCode, expand).toBe(400);
        expect(res.json().code).toBe('request.invalid_expand');
      }
    }
  });
});

describe('$expand on GET /v1/users', () => {
  it('expands each relation with a nested $select, as properties of every user', async () => {
    const expand = [
      'manager($select=userName)', 'position($select=name)', 'area($select=name)', 'roles($select=name,weight)', 'groups($select=name)',
      'organizations($select=code)', 'environments($select=name,permissions)', 'identities($select=subject,providerAlias)',
    ].join(',');
    const page = await get(`/v1/users?$orderby=userName&$filter=${encodeURIComponent("userName in ('ada','boss','grace')")}&$expand=${encodeURIComponent(expand)}`);
    const [ada, boss, grace] = page.items;
    expect(ada).toMatchObject({
      userName: 'ada',
      manager: { id: users.boss.id, userName: 'boss' },
      position: { id: d.engineer.id, name: 'Engineer' },
      area: { id: d.engineering.id, name: 'Engineering' },
      roles: [{ id: d.viewer.id, name: 'Viewer', weight: 10 }],
      groups: [{ id: d.apac.id, name: 'APAC' }, { id: d.sales.id, name: 'Sales' }],
      organizations: [{ id: d.acme.id, code: 'ACME' }],
      environments: [{ id: d.prod.id, name: 'Prod', permissions: ['view', 'run'] }],
      identities: [{ id: '0190a0a0-0000-7000-8000-00000000000a', subject: 'ada-sub', providerAlias: 'entra' }],
    });
    expect(Object.keys(ada.manager)).toEqual(['id', 'userName']);
    expect(Object.keys(ada.roles[0])).toEqual(['id', 'name', 'weight']);
    expect(boss).toMatchObject({ manager: null, position: null, area: null, roles: [{ name: 'Admin', weight: 90 }], groups: [{ name: 'Sales' }], environments: [], identities: [] });
    expect(grace).toMatchObject({ manager: null, groups: [], identities: [{ subject: 'grace-sub', providerAlias: 'entra' }] });
  });

  it('combines with the top-level $select, and adds nothing without $expand', async () => {
    const page = await get(`/v1/users?$filter=${encodeURIComponent("userName eq 'ada'")}&$select=userName&$expand=groups($select=name)`);
    expect(page.items).toEqual([{ id: users.ada.id, userName: 'ada', groups: [{ id: d.apac.id, name: 'APAC' }, { id: d.sales.id, name: 'Sales' }] }]);
    const plain = await get(`/v1/users?$filter=${encodeURIComponent("userName eq 'ada'")}`);
    for (const relation of ['manager', 'position', 'area', 'roles', 'groups', 'organizations', 'environments', 'identities']) expect(plain.items[0]).not.toHaveProperty(relation);
    const bad = await t.request({ method: 'GET', url: '/v1/users?$expand=userGroups', token });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'request.invalid_expand', detail: expect.stringContaining('groups') });
  });

  it('runs one query per expanded relation for the whole page, never one per user', async () => {
    const all = 'manager,position,area,roles,groups,organizations,environments,identities';
    const relevant = /\b(user_roles|user_groups|user_organizations|user_environments|user_identities|positions|areas)\b|from "users"/;
    const count = async (url: string) => {
      const captured: string[] = [];
      const stop = t.runtime.database.observe((q) => captured.push(q.sql));
      const body = await get(url);
      stop();
      return { queries: captured.filter((s) => relevant.test(s)).length, users: body.items.length as number };
    };
    const small = await count(`/v1/users?$top=2&$expand=${all}`);
    const large = await count(`/v1/users?$top=100&$expand=${all}`);
    const plain = await count('/v1/users?$top=100');
    expect([small.users, large.users]).toEqual([2, 9]);
    expect(plain.queries).toBe(1);
    expect(small.queries).toBe(1 + 8);
    expect(large.queries).toBe(1 + 8);
  });
});

describe('membership filters', () => {
  const names = async (filter: string) =>
    (await get(`/v1/users?$orderby=userName&$filter=${encodeURIComponent(filter)}`)).items.map((u: { userName: string }) => u.userName);

  it.each([
    ["groups/any(g: g/name eq 'sales')", ['ada', 'boss']],
    ["groups/any(g: g/name eq 'APAC')", ['ada']],
    ["startswith(userName,'') and not groups/any(g: g/name eq 'Sales')", ['extra0', 'extra1', 'extra2', 'extra3', 'extra4', 'extra5', 'grace']],
    ["groups/any(g: startswith(g/name,'sa'))", ['ada', 'boss']],
    ['roles/any(r: r/weight ge 50)', ['boss']],
    ["roles/any(r: r/name eq 'VIEWER' or r/weight gt 100)", ['ada']],
    ["organizations/any(o: o/code eq 'acme')", ['ada']],
    ["organizations/any(o: o/name eq 'acme inc')", ['ada']],
    ["environments/any(e: e/name eq 'PROD')", ['ada']],
    ["environments/any(e: e/name in ('prod','test'))", ['ada', 'grace']],
    ["identities/any(i: i/subject eq 'grace-sub')", ['grace']],
  ])('%s', async (filter, expected) => {
    expect(await names(filter)).toEqual(expected);
  });

  it('filters by ids and combines with other conditions', async () => {
    expect(await names(`groups/any(g: g/id eq ${d.sales.id}) and roles/any(r: r/id eq ${d.admin.id})`)).toEqual(['boss']);
    expect(await names(`identities/any(i: i/providerId eq ${d.entra.id} and i/subject eq 'ada-sub')`)).toEqual(['ada']);
    expect(await names(`identities/any(i: i/providerId eq ${d.entra.id} and i/subject eq 'ADA-SUB')`)).toEqual([]);
  });

  it('rejects unknown fields inside the lambda', async () => {
    const res = await t.request({ method: 'GET', url: `/v1/users?$filter=${encodeURIComponent("groups/any(g: g/secret eq 'x')")}`, token });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'request.invalid_filter', detail: expect.stringContaining('g/name') });
  });
});
