import { describe, expect, it } from 'vitest';
import { DIRECTORY } from '../../src/domain/directory.js';
import { useTestApp, type TestApp } from '../helpers/test-app.js';

let t: TestApp;
let token: string;
useTestApp((app, adminToken) => {
  t = app;
  token = adminToken;
});

let seq = 0;
const u = (prefix: string) => `${prefix}-${++seq}`;

async function post(path: string, payload: Record<string, unknown>) {
  const res = await t.request({ method: 'POST', url: `/v1/${path}`, token, payload });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

/** One create payload, one change and one uniqueness clash per kind. */
const kinds = [
  { path: 'roles', create: () => ({ name: u('Admin'), weight: 90, permissions: ['users.read', 'users.write'] }), change: { weight: 10 }, unique: 'name', code: 'role.name_taken' },
  { path: 'groups', create: () => ({ name: u('Sales'), description: 'EMEA sales', externalIds: [{ origin: 'entra', key: u('g') }] }), change: { description: 'All sales' }, unique: 'name', code: 'group.name_taken' },
  { path: 'organizations', create: () => ({ name: 'Acme', code: u('ACME') }), change: { name: 'Acme Inc' }, unique: 'code', code: 'organization.code_taken' },
  { path: 'environments', create: () => ({ name: u('Production') }), change: { description: 'prod' }, unique: 'name', code: 'environment.name_taken' },
  { path: 'positions', create: () => ({ name: u('Engineer') }), change: { name: 'Senior Engineer' } },
  { path: 'areas', create: () => ({ name: u('R&D') }), change: { name: 'Research' } },
  { path: 'identity-providers', create: () => ({ name: 'Entra', alias: u('entra'), type: 'azure-ad', config: { issuer: 'https://login.example/tenant/v2.0' } }), change: { enabled: false }, unique: 'alias', code: 'identity_provider.alias_taken' },
  { path: 'identification-types', create: () => ({ name: 'Passport', code: u('passport') }), change: { name: 'Passport (EU)' }, unique: 'code', code: 'identification_type.code_taken' },
  // Attribute names are JSON keys, so they are unique exactly (shoeSize and ShoeSize may coexist).
  { path: 'attribute-definitions', create: () => ({ name: u('shoe').replace('-', '_'), type: 'number' }), change: { required: false, indexed: true }, unique: 'name', code: 'attribute_definition.name_taken', exact: true },
] as const;

describe.each(kinds)('/v1/$path', (kind) => {
  it('creates, reads, lists, replaces, patches and deletes with ETags and events', async () => {
    const created = await t.request({ method: 'POST', url: `/v1/${kind.path}`, token, payload: kind.create() });
    expect(created.statusCode, created.body).toBe(201);
    const record = created.json();
    expect(created.headers.location).toBe(`/v1/${kind.path}/${record.id}`);
    expect(created.headers.etag).toBe('W/"1"');
    expect((await t.request({ method: 'GET', url: `/v1/${kind.path}/${record.id}`, token })).json()).toEqual(record);

    const list = (await t.request({ method: 'GET', url: `/v1/${kind.path}?$count=true&$filter=${encodeURIComponent(`id eq ${record.id}`)}`, token })).json();
    expect(list).toMatchObject({ count: 1, items: [record] });

    const patched = await t.request({ method: 'PATCH', url: `/v1/${kind.path}/${record.id}`, token, headers: { 'if-match': 'W/"1"' }, payload: kind.change });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json()).toMatchObject({ ...kind.change, version: 2 });
    const stale = await t.request({ method: 'PUT', url: `/v1/${kind.path}/${record.id}`, token, headers: { 'if-match': 'W/"1"' }, payload: record });
    expect(stale.statusCode).toBe(412);
    const replaced = await t.request({ method: 'PUT', url: `/v1/${kind.path}/${record.id}`, token, payload: record });
    expect(replaced.statusCode, replaced.body).toBe(200);
    expect(replaced.json()).toMatchObject({ ...record, version: 3, updatedAt: expect.any(String) });

    expect((await t.request({ method: 'DELETE', url: `/v1/${kind.path}/${record.id}`, token })).statusCode).toBe(204);
    const gone = await t.request({ method: 'GET', url: `/v1/${kind.path}/${record.id}`, token });
    expect(gone.statusCode).toBe(404);
    expect(gone.json().code).toMatch(/\.not_found$/);
    const events = (await t.request({ method: 'GET', url: `/v1/events?resourceId=${record.id}`, token })).json().items;
    expect(events.map((e: { type: string }) => e.type.split('.')[1])).toEqual(['deleted', 'updated', 'updated', 'created']);
  });

  if ('unique' in kind) {
    it(`refuses a second record with the same ${kind.unique}, and writes nothing`, async () => {
      const first = await post(kind.path, kind.create());
      const taken = String(first[kind.unique]);
      const clash = { ...kind.create(), [kind.unique]: 'exact' in kind ? taken : taken.toUpperCase() };
      const before = (await t.request({ method: 'GET', url: `/v1/${kind.path}?$count=true`, token })).json().count;
      const res = await t.request({ method: 'POST', url: `/v1/${kind.path}`, token, payload: clash });
      expect(res.statusCode).toBe(409);
      expect(res.json().code).toBe(kind.code);
      expect((await t.request({ method: 'GET', url: `/v1/${kind.path}?$count=true`, token })).json().count).toBe(before);
    });
  }

  it('rejects unknown fields and missing required ones', async () => {
    expect((await t.request({ method: 'POST', url: `/v1/${kind.path}`, token, payload: { ...kind.create(), bogus: 1 } })).statusCode).toBe(400);
    expect((await t.request({ method: 'POST', url: `/v1/${kind.path}`, token, payload: {} })).statusCode).toBe(400);
  });
});

describe('trees (organizations, areas)', () => {
  it('refuse cycles, list descendants and refuse deleting a parent', async () => {
    const root = await post('areas', { name: u('Company') });
    const mid = await post('areas', { name: u('Engineering'), parentId: root.id });
    const leaf = await post('areas', { name: u('Platform'), parentId: mid.id });
    const cycle = await t.request({ method: 'PATCH', url: `/v1/areas/${root.id}`, token, payload: { parentId: leaf.id } });
    expect(cycle.statusCode).toBe(422);
    expect(cycle.json().code).toBe('directory.parent_cycle');
    expect((await t.request({ method: 'PATCH', url: `/v1/areas/${root.id}`, token, payload: { parentId: root.id } })).json().code).toBe('directory.parent_cycle');
    const missing = await t.request({ method: 'POST', url: '/v1/areas', token, payload: { name: 'x', parentId: '0190a0a0-0000-7000-8000-000000000000' } });
    expect(missing.json().code).toBe('directory.reference_not_found');

    const descendants = (await t.request({ method: 'GET', url: `/v1/areas/${root.id}/descendants`, token })).json().items;
    expect(descendants.map((a: { id: string; depth: number }) => [a.id, a.depth])).toEqual([[mid.id, 1], [leaf.id, 2]]);
    const busy = await t.request({ method: 'DELETE', url: `/v1/areas/${mid.id}`, token });
    expect(busy.statusCode).toBe(409);
    expect(busy.json()).toMatchObject({ code: 'directory.in_use', detail: expect.stringContaining('1 child areas') });

    const org = await post('organizations', { name: 'Parent', code: u('P') });
    const child = await post('organizations', { name: 'Child', code: u('C'), parentId: org.id });
    expect((await t.request({ method: 'GET', url: `/v1/organizations/${org.id}/descendants`, token })).json().items[0].id).toBe(child.id);
  });
});

describe('positions and areas in use', () => {
  it('cannot be deleted while users or positions refer to them', async () => {
    const area = await post('areas', { name: u('Ops') });
    const position = await post('positions', { name: u('SRE'), areaId: area.id });
    const user = (await t.request({ method: 'POST', url: '/v1/users', token, payload: { userName: u('sre'), positionId: position.id, areaId: area.id } })).json();
    expect(user).toMatchObject({ positionId: position.id, areaId: area.id });
    const busyPosition = await t.request({ method: 'DELETE', url: `/v1/positions/${position.id}`, token });
    expect(busyPosition.statusCode).toBe(409);
    expect(busyPosition.json().detail).toContain('1 users');
    expect((await t.request({ method: 'DELETE', url: `/v1/areas/${area.id}`, token })).statusCode).toBe(409);
    await t.request({ method: 'PATCH', url: `/v1/users/${user.id}`, token, payload: { positionId: null, areaId: null } });
    expect((await t.request({ method: 'DELETE', url: `/v1/positions/${position.id}`, token })).statusCode).toBe(204);
    expect((await t.request({ method: 'DELETE', url: `/v1/areas/${area.id}`, token })).statusCode).toBe(204);
  });

  it('users may only point at positions, areas and identification types of their tenant', async () => {
    const missing = '0190a0a0-0000-7000-8000-000000000000';
    for (const payload of [{ positionId: missing }, { areaId: missing }, { identifications: [{ typeId: missing, value: 'X1' }] }]) {
      const res = await t.request({ method: 'POST', url: '/v1/users', token, payload: { userName: u('ref'), ...payload } });
      expect(res.statusCode, JSON.stringify(payload)).toBe(422);
      expect(res.json().code).toBe('user.reference_not_found');
    }
    const passport = await post('identification-types', { name: 'Passport', code: u('pp') });
    const user = await t.request({ method: 'POST', url: '/v1/users', token, payload: { userName: u('id'), identifications: [{ typeId: passport.id, value: 'P123' }], preventDeprovision: true } });
    expect(user.json()).toMatchObject({ identifications: [{ typeId: passport.id, value: 'P123' }], preventDeprovision: true });
  });
});

describe('identity providers', () => {
  it('store secret config values but never return them', async () => {
    const idp = await post('identity-providers', { name: 'Okta', alias: u('okta'), type: 'oidc', config: { issuer: 'https://okta.example', clientId: 'abc', clientSecret: 's3cr3t-value' } });
    expect(idp.config).toEqual({ issuer: 'https://okta.example', clientId: 'abc' });
    expect(idp.configSecrets).toEqual(['clientSecret']);
    const echoed = await t.request({ method: 'PUT', url: `/v1/identity-providers/${idp.id}`, token, payload: { ...idp, enabled: false } });
    expect(echoed.json()).toMatchObject({ enabled: false, configSecrets: ['clientSecret'] });
    const cleared = await t.request({ method: 'PATCH', url: `/v1/identity-providers/${idp.id}`, token, payload: { config: { clientSecret: null } } });
    expect(cleared.json().configSecrets).toEqual([]);
    const everything = JSON.stringify((await t.request({ method: 'GET', url: `/v1/events?resourceId=${idp.id}`, token })).json()) + JSON.stringify((await t.request({ method: 'GET', url: '/v1/identity-providers', token })).json());
    expect(everything).not.toContain('s3cr3t-value');
    expect((await t.request({ method: 'POST', url: '/v1/identity-providers', token, payload: { name: 'x', alias: u('x'), type: 'kerberos' } })).statusCode).toBe(400);
  });
});

describe('attribute definitions', () => {
  it('require enumValues exactly for enums', async () => {
    const noValues = await t.request({ method: 'POST', url: '/v1/attribute-definitions', token, payload: { name: 'tier', type: 'enum' } });
    expect(noValues.json().code).toBe('attribute_definition.invalid');
    const stray = await t.request({ method: 'POST', url: '/v1/attribute-definitions', token, payload: { name: 'tier', type: 'string', enumValues: ['a'] } });
    expect(stray.json().code).toBe('attribute_definition.invalid');
    expect((await t.request({ method: 'POST', url: '/v1/attribute-definitions', token, payload: { name: 'bad name!', type: 'string' } })).statusCode).toBe(400);
  });
});

describe('directory lists', () => {
  it('filter, order and page with cursors', async () => {
    const prefix = u('lst');
    for (const [name, weight] of [['a', 5], ['b', 50], ['c', 20], ['d', 50]] as const) await post('roles', { name: `${prefix}-${name}`, weight });
    const filter = encodeURIComponent(`startswith(name,'${prefix}') and weight ge 20`);
    const page1 = (await t.request({ method: 'GET', url: `/v1/roles?$filter=${filter}&$orderby=weight desc,name&$top=2`, token })).json();
    expect(page1.items.map((r: { name: string }) => r.name)).toEqual([`${prefix}-b`, `${prefix}-d`]);
    const page2 = (await t.request({ method: 'GET', url: `/v1/roles?$filter=${filter}&$orderby=weight desc,name&$top=2&cursor=${page1.nextCursor}`, token })).json();
    expect(page2.items.map((r: { name: string }) => r.name)).toEqual([`${prefix}-c`]);
    expect(page2.nextCursor).toBeNull();
    expect((await t.request({ method: 'GET', url: `/v1/roles?$filter=${encodeURIComponent("permissions/any(p: p eq 'x')")}`, token })).statusCode).toBe(200);
    expect((await t.request({ method: 'GET', url: '/v1/roles?$filter=secret eq 1', token })).json().code).toBe('request.invalid_filter');
  });
});

describe('directory lists by external id', () => {
  const list = async (path: string, filter: string) => {
    const res = await t.request({ method: 'GET', url: `/v1/${path}?$filter=${encodeURIComponent(filter)}`, token });
    expect(res.statusCode, res.body).toBe(200);
    return res.json().items.map((r: { name: string }) => r.name).sort();
  };

  it('filters groups with externalIds/any(), comparing origin and key as identifiers', async () => {
    const prefix = u('ext');
    await post('groups', { name: `${prefix}-a`, externalIds: [{ origin: 'HR', key: `${prefix}-K1` }] });
    await post('groups', { name: `${prefix}-b`, externalIds: [{ origin: 'hr', key: `${prefix}-k2` }, { origin: 'entra', key: `${prefix}-x` }] });
    await post('groups', { name: `${prefix}-c` });
    const mine = `startswith(name,'${prefix}')`;
    expect(await list('groups', `${mine} and externalIds/any(e: e/origin eq 'hr')`)).toEqual([`${prefix}-a`, `${prefix}-b`]);
    expect(await list('groups', `externalIds/any(e: e/origin eq 'hr' and e/key eq '${prefix}-k1')`)).toEqual([`${prefix}-a`]);
    expect(await list('groups', `${mine} and externalIds/any(e: e/origin eq 'entra')`)).toEqual([`${prefix}-b`]);
    expect(await list('groups', `${mine} and not externalIds/any(e: e/origin eq 'hr')`)).toEqual([`${prefix}-c`]);
  });

  it('accepts externalIds/any() on every directory kind that has externalIds', async () => {
    const kindsWithExternalIds = Object.values(DIRECTORY).filter((def) => Object.values(def.fields).some((f) => f.type === 'externalIds'));
    expect(kindsWithExternalIds.length).toBeGreaterThan(0);
    for (const def of kindsWithExternalIds) {
      const res = await t.request({ method: 'GET', url: `/v1/${def.path}?$filter=${encodeURIComponent("externalIds/any(e: e/origin eq 'nobody')")}`, token });
      expect(res.statusCode, `${def.path}: ${res.body}`).toBe(200);
      expect(res.json().items).toEqual([]);
    }
  });
});

describe('access', () => {
  it('needs directory scopes and isolates tenants', async () => {
    const role = await post('roles', { name: u('Private') });
    const reader = (await t.request({ method: 'POST', url: '/v1/clients', token, payload: { name: 'r', scopes: ['users:write', 'directory:read'] } })).json();
    const readerToken = await t.token(reader.clientId, reader.clientSecret);
    expect((await t.request({ method: 'GET', url: `/v1/roles/${role.id}`, token: readerToken })).statusCode).toBe(200);
    expect((await t.request({ method: 'POST', url: '/v1/roles', token: readerToken, payload: { name: 'nope' } })).statusCode).toBe(403);

    await t.request({ method: 'POST', url: '/v1/tenants', token, payload: { id: 'other-dir', name: 'Other' } });
    const other = (await t.request({ method: 'POST', url: '/v1/clients', token, payload: { name: 'o', scopes: ['admin'], tenantId: 'other-dir' } })).json();
    const otherToken = await t.token(other.clientId, other.clientSecret);
    for (const method of ['GET', 'PATCH', 'DELETE'] as const) {
      const res = await t.request({ method, url: `/v1/roles/${role.id}`, token: otherToken, ...(method === 'PATCH' ? { payload: { weight: 1 } } : {}) });
      expect(res.statusCode, method).toBe(404);
    }
    expect((await t.request({ method: 'POST', url: '/v1/roles', token: otherToken, payload: { name: role.name } })).statusCode).toBe(201);
  });
});

describe('deleting what users belong to', () => {
  it('removes memberships with the group, one event per member, and leaves other groups alone', async () => {
    const doomed = await post('groups', { name: u('Doomed') });
    const kept = await post('groups', { name: u('Kept') });
    const members = [];
    for (let i = 0; i < 3; i++) {
      const user = (await t.request({ method: 'POST', url: '/v1/users', token, payload: { userName: u('member') } })).json();
      await t.request({ method: 'PUT', url: `/v1/users/${user.id}/groups`, token, payload: [{ id: doomed.id }, { id: kept.id }] });
      members.push(user);
    }
    expect((await t.request({ method: 'DELETE', url: `/v1/groups/${doomed.id}`, token })).statusCode).toBe(204);
    for (const user of members) {
      const groups = (await t.request({ method: 'GET', url: `/v1/users/${user.id}/groups`, token })).json().items;
      expect(groups.map((g: { id: string }) => g.id)).toEqual([kept.id]);
      const latest = (await t.request({ method: 'GET', url: `/v1/users/${user.id}/history?limit=1`, token })).json().items[0];
      expect(latest).toMatchObject({ type: 'user.memberships_changed', changes: { groups: { from: [doomed.id, kept.id].sort(), to: [kept.id] } } });
    }
  });

  it('unlinks every identity of a deleted provider, with the same event as unlinking one', async () => {
    const idp = await post('identity-providers', { name: 'Doomed IdP', alias: u('doomed'), type: 'oidc' });
    const user = (await t.request({ method: 'POST', url: '/v1/users', token, payload: { userName: u('linked') } })).json();
    const link = (await t.request({ method: 'POST', url: `/v1/users/${user.id}/identities`, token, payload: { providerId: idp.id, subject: 'sub-1' } })).json();
    expect((await t.request({ method: 'DELETE', url: `/v1/identity-providers/${idp.id}`, token })).statusCode).toBe(204);
    expect((await t.request({ method: 'GET', url: `/v1/users/${user.id}/identities`, token })).json().items).toEqual([]);
    const latest = (await t.request({ method: 'GET', url: `/v1/users/${user.id}/history?limit=1`, token })).json().items[0];
    expect(latest).toMatchObject({ type: 'user.identity_unlinked', changes: { identity: { from: { id: link.id, providerId: idp.id, subject: 'sub-1' }, to: null } } });
  });
});
