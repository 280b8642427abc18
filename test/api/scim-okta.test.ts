import { describe, expect, it } from 'vitest';
import { useApiSuite } from '../helpers/test-app.js';
import { URN, createScimUser, expectScimError, ids, scimClient, type ScimClient } from '../helpers/scim-client.js';

/**
 * Okta's documented SCIM 2.0 flow (Okta developer docs, "SCIM 2.0 protocol reference"): the
 * user lifecycle (find, create with a password, read, PUT update, deactivate and reactivate with
 * a path-less replace) and group push (create, replace the member list, remove a member by
 * filter, rename, delete), as Okta sends them.
 */
const s = useApiSuite();

let okta: ScimClient | undefined;
const client = async () => (okta ??= await scimClient(s, { origin: 'okta' }));
const uid = () => s.unique('o').replace(/[^a-z0-9]/gi, '');
const oktaUserFilter = (userName: string) => `/scim/v2/Users?filter=userName%20eq%20%22${encodeURIComponent(userName)}%22&startIndex=1&count=100`;

describe('Okta: user lifecycle', () => {
  it('find (none), create with password, get, find (one), PUT update, deactivate, reactivate', async () => {
    const c = await client();
    const userName = `test.user.${uid()}@okta.local`;
    const externalId = `00uj${uid()}`;

    const missing = await c.get(oktaUserFilter(userName));
    expect(missing.statusCode, missing.body).toBe(200);
    expect(missing.json()).toEqual({ schemas: [URN.list], totalResults: 0, startIndex: 1, itemsPerPage: 0, Resources: [] });

    const created = await c.post('/scim/v2/Users', {
      schemas: [URN.user],
      userName,
      name: { givenName: 'Test', familyName: 'User' },
      emails: [{ primary: true, value: userName, type: 'work' }],
      displayName: 'Test User',
      locale: 'en-US',
      externalId,
      groups: [],
      password: '1mz050nq',
      active: true,
    });
    expect(created.statusCode, created.body).toBe(201);
    const user = created.json();
    expect(user).toMatchObject({ id: expect.any(String), userName, externalId, displayName: 'Test User', locale: 'en-US', active: true, name: { givenName: 'Test', familyName: 'User' } });
    expect(user).not.toHaveProperty('password');
    expect(created.body).not.toContain('1mz050nq');

    const got = await c.get(`/scim/v2/Users/${user.id}`);
    expect(got.statusCode).toBe(200);
    expect(got.json()).toMatchObject({ id: user.id, userName, externalId, active: true });
    expect(got.json()).not.toHaveProperty('password');

    const found = await c.get(oktaUserFilter(userName));
    expect(found.json()).toMatchObject({ totalResults: 1, startIndex: 1, itemsPerPage: 1 });
    expect(ids(found)).toEqual([user.id]);

    // Okta sends the whole user back, with id, meta and the read-only groups.
    const put = await c.put(`/scim/v2/Users/${user.id}`, {
      schemas: [URN.user],
      id: user.id,
      userName,
      name: { givenName: 'Another', middleName: 'Test', familyName: 'User' },
      emails: [{ primary: true, value: userName, type: 'work' }],
      displayName: 'Another Test User',
      locale: 'en-US',
      externalId,
      groups: [],
      password: 'newPassw0rd',
      active: true,
      meta: user.meta,
    });
    expect(put.statusCode, put.body).toBe(200);
    expect(put.json()).toMatchObject({ id: user.id, displayName: 'Another Test User', name: { givenName: 'Another', middleName: 'Test', familyName: 'User' } });
    expect(put.body).not.toContain('newPassw0rd');
    expect(put.json().meta.version).not.toBe(user.meta.version);

    const off = await c.patch(`/scim/v2/Users/${user.id}`, [{ op: 'replace', value: { active: false } }]);
    expect(off.statusCode, off.body).toBe(200);
    expect(off.json()).toMatchObject({ id: user.id, active: false, displayName: 'Another Test User' });
    expect((await s.request({ method: 'GET', url: `/v1/users/${user.id}` })).json().status).toBe('suspended');
    expect((await c.get(`/scim/v2/Users/${user.id}`)).json().active).toBe(false);

    const on = await c.patch(`/scim/v2/Users/${user.id}`, [{ op: 'replace', value: { active: true } }]);
    expect(on.statusCode, on.body).toBe(200);
    expect(on.json().active).toBe(true);
    expect((await s.request({ method: 'GET', url: `/v1/users/${user.id}` })).json().status).toBe('active');

    // A password change as Okta sends it (path-less replace) is accepted and never echoed.
    const password = await c.patch(`/scim/v2/Users/${user.id}`, [{ op: 'replace', value: { password: 'an0therSecret!' } }]);
    expect(password.statusCode, password.body).toBe(200);
    expect(password.body).not.toContain('an0therSecret!');
  });

  it('imports users with index paging (startIndex=1&count=100), then the next page', async () => {
    const c = await client();
    for (let i = 0; i < 3; i++) await createScimUser(c, `import-${i}-${uid()}@okta.local`);
    const first = await c.get('/scim/v2/Users?startIndex=1&count=2');
    expect(first.statusCode, first.body).toBe(200);
    const page = first.json();
    expect(page.totalResults).toBeGreaterThanOrEqual(3);
    expect(page).toMatchObject({ startIndex: 1, itemsPerPage: 2 });
    const second = (await c.get('/scim/v2/Users?startIndex=3&count=100')).json();
    expect(second.startIndex).toBe(3);
    expect(second.itemsPerPage).toBe(page.totalResults - 2);
    expect(new Set([...ids(first), ...second.Resources.map((r: { id: string }) => r.id)]).size).toBe(page.totalResults);
  });
});

describe('Okta: group push', () => {
  it('create, find by displayName, replace the member list, remove a member by filter, rename (PATCH and PUT), delete', async () => {
    const c = await client();
    const [a, b, d] = await Promise.all(['a', 'b', 'd'].map((n) => createScimUser(c, `push-${n}-${uid()}@okta.local`)));
    const displayName = `Test SCIMv2 ${uid()}`;

    const created = await c.post('/scim/v2/Groups', { schemas: [URN.group], displayName, members: [] });
    expect(created.statusCode, created.body).toBe(201);
    const group = created.json();
    expect(group).toMatchObject({ id: expect.any(String), displayName });

    const found = await c.get(`/scim/v2/Groups?filter=${encodeURIComponent(`displayName eq "${displayName}"`)}&startIndex=1&count=100`);
    expect(found.statusCode, found.body).toBe(200);
    expect(ids(found)).toEqual([group.id]);

    const replace = await c.patch(`/scim/v2/Groups/${group.id}`, [{ op: 'replace', path: 'members', value: [{ value: a?.id, display: a?.userName }, { value: b?.id, display: b?.userName }] }]);
    expect(replace.statusCode, replace.body).toBe(204);
    const members = () => c.get(`/scim/v2/Groups/${group.id}`).then((r) => (r.json().members ?? []).map((m: { value: string }) => m.value).sort());
    expect(await members()).toEqual([a?.id, b?.id].sort());

    // The full list again, with one swapped: b leaves, d joins.
    const swap = await c.patch(`/scim/v2/Groups/${group.id}`, [{ op: 'replace', path: 'members', value: [{ value: a?.id, display: a?.userName }, { value: d?.id, display: d?.userName }] }]);
    expect(swap.statusCode, swap.body).toBe(204);
    expect(await members()).toEqual([a?.id, d?.id].sort());

    const remove = await c.patch(`/scim/v2/Groups/${group.id}`, [{ op: 'remove', path: `members[value eq "${a?.id}"]` }]);
    expect(remove.statusCode, remove.body).toBe(204);
    expect(await members()).toEqual([d?.id]);

    const renamed = `Renamed ${uid()}`;
    const patchRename = await c.patch(`/scim/v2/Groups/${group.id}`, [{ op: 'replace', value: { displayName: renamed } }]);
    expect(patchRename.statusCode, patchRename.body).toBe(204);
    expect((await c.get(`/scim/v2/Groups/${group.id}`)).json().displayName).toBe(renamed);

    const putName = `Another Display Name ${uid()}`;
    const put = await c.put(`/scim/v2/Groups/${group.id}`, { schemas: [URN.group], id: group.id, displayName: putName, members: [{ value: d?.id, display: d?.userName }] });
    expect(put.statusCode, put.body).toBe(200);
    expect(put.json()).toMatchObject({ id: group.id, displayName: putName, members: [expect.objectContaining({ value: d?.id })] });

    expect((await c.delete(`/scim/v2/Groups/${group.id}`)).statusCode).toBe(204);
    expectScimError(await c.get(`/scim/v2/Groups/${group.id}`), 404);
    // Deleting a group deletes no user.
    expect((await c.get(`/scim/v2/Users/${d?.id}`)).statusCode).toBe(200);
  });

  it("takes Okta's documented rename: a path-less replace whose value carries the group's own id", async () => {
    const c = await client();
    const group = (await c.post('/scim/v2/Groups', { schemas: [URN.group], displayName: `Okta rename ${uid()}`, members: [] })).json();
    const renamed = `Okta renamed ${uid()}`;
    // PATCH /Groups/{id} {"Operations":[{"op":"replace","value":{"id":"…","displayName":"…"}}]}: the id is the group's own, unchanged.
    const res = await c.patch(`/scim/v2/Groups/${group.id}`, [{ op: 'replace', value: { id: group.id, displayName: renamed } }]);
    expect(res.statusCode, res.body).toBe(204);
    expect((await c.get(`/scim/v2/Groups/${group.id}`)).json().displayName).toBe(renamed);
    // A different id is still refused, and changes nothing.
    const other = await c.patch(`/scim/v2/Groups/${group.id}`, [{ op: 'replace', value: { id: crypto.randomUUID(), displayName: 'Hijack' } }]);
    expectScimError(other, 400, 'mutability');
    expect((await c.get(`/scim/v2/Groups/${group.id}`)).json().displayName).toBe(renamed);
  });

  it('replaces members with a full list of 150 users (more than a person has emails, fewer than a real department)', { timeout: 60_000 }, async () => {
    const c = await client();
    const users: string[] = [];
    for (let i = 0; i < 150; i += 25) {
      const batch = await Promise.all(Array.from({ length: 25 }, (_, j) => createScimUser(c, `big-${i + j}-${uid()}@okta.local`)));
      users.push(...batch.map((u) => u.id));
    }
    const group = (await c.post('/scim/v2/Groups', { schemas: [URN.group], displayName: `Big ${uid()}`, members: [] })).json();
    const res = await c.patch(`/scim/v2/Groups/${group.id}`, [{ op: 'replace', path: 'members', value: users.map((value) => ({ value })) }]);
    expect(res.statusCode, res.body.slice(0, 300)).toBe(204);
    expect((await c.get(`/scim/v2/Groups/${group.id}`)).json().members).toHaveLength(150);
    const put = await c.put(`/scim/v2/Groups/${group.id}`, { schemas: [URN.group], displayName: group.displayName, members: users.slice(0, 120).map((value) => ({ value })) });
    expect(put.statusCode, put.body.slice(0, 300)).toBe(200);
    expect(put.json().members).toHaveLength(120);
    const created = await c.post('/scim/v2/Groups', { schemas: [URN.group], displayName: `Big2 ${uid()}`, members: users.map((value) => ({ value })) });
    expect(created.statusCode, created.body.slice(0, 300)).toBe(201);
    expect(created.json().members).toHaveLength(150);
  });
});
