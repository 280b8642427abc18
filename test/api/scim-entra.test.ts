import { describe, expect, it } from 'vitest';
import { useApiSuite } from '../helpers/test-app.js';
import { URN, createScimUser, expectScimError, filterUrl, ids, scimClient, type ScimClient } from '../helpers/scim-client.js';

/**
 * The request sequences Microsoft documents for Entra ID provisioning ("Develop and plan
 * provisioning for a SCIM endpoint in Microsoft Entra ID", user and group operations), replayed
 * as Entra sends them, and the quirks Entra is known to send beyond the RFC's letter.
 */
const s = useApiSuite();
const ADSCIM_GROUP = 'http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group';

let entra: ScimClient | undefined;
const client = async () => (entra ??= await scimClient(s, { origin: 'entra', owns: 'all' }));
const uid = () => s.unique('x').replace(/[^a-z0-9]/gi, '');

describe('Entra ID: user operations as documented', () => {
  it('create user, get user, get by userName and externalId, zero results, update multi- and single-valued, disable, delete', async () => {
    const c = await client();
    const externalId = `0a21f0f2-8d2a-4f8e-bf98-${uid()}`;
    const userName = `Test_User_${uid()}`;
    const workEmail = `Test_User_${uid()}@testuser.com`;

    // Create User
    const created = await c.post('/scim/v2/Users', {
      schemas: [URN.user, URN.enterprise],
      externalId,
      userName,
      active: true,
      emails: [{ primary: true, type: 'work', value: workEmail }],
      meta: { resourceType: 'User' },
      name: { formatted: 'givenName familyName', familyName: 'familyName', givenName: 'givenName' },
      roles: [],
    });
    expect(created.statusCode, created.body).toBe(201);
    const user = created.json();
    expect(user).toMatchObject({
      schemas: expect.arrayContaining([URN.user]),
      id: expect.any(String),
      externalId,
      userName,
      active: true,
      emails: [{ primary: true, type: 'work', value: workEmail }],
      name: { formatted: 'givenName familyName', familyName: 'familyName', givenName: 'givenName' },
      meta: { resourceType: 'User', created: expect.any(String), lastModified: expect.any(String), location: expect.stringContaining(`/scim/v2/Users/${user.id}`) },
    });
    expect(user).not.toHaveProperty('roles');

    // Get User
    const got = await c.get(`/scim/v2/Users/${user.id}`);
    expect(got.statusCode, got.body).toBe(200);
    expect(got.json()).toMatchObject({ id: user.id, userName, externalId, emails: [{ value: workEmail }] });

    // Get User by query (userName, then externalId, then the work email)
    const byName = await c.get(filterUrl('Users', `userName eq "${userName}"`));
    expect(byName.statusCode, byName.body).toBe(200);
    expect(byName.json()).toMatchObject({ schemas: [URN.list], totalResults: 1, startIndex: 1, itemsPerPage: 1 });
    expect(ids(byName)).toEqual([user.id]);
    expect(ids(await c.get(filterUrl('Users', `externalId eq "${externalId}"`)))).toEqual([user.id]);
    expect(ids(await c.get(filterUrl('Users', `emails[type eq "work"].value eq "${workEmail}"`)))).toEqual([user.id]);

    // Get User by query - zero results
    const none = await c.get(filterUrl('Users', 'userName eq "non-existent user"'));
    expect(none.statusCode, none.body).toBe(200);
    expect(none.json()).toEqual({ schemas: [URN.list], totalResults: 0, Resources: [], startIndex: 1, itemsPerPage: 0 });

    // Update User [Multi-valued properties]
    const multi = await c.patch(`/scim/v2/Users/${user.id}`, [
      { op: 'Replace', path: 'emails[type eq "work"].value', value: 'updatedEmail@microsoft.com' },
      { op: 'Replace', path: 'name.familyName', value: 'updatedFamilyName' },
    ]);
    expect(multi.statusCode, multi.body).toBe(200);
    expect(multi.json()).toMatchObject({ emails: [{ primary: true, type: 'work', value: 'updatedEmail@microsoft.com' }], name: { familyName: 'updatedFamilyName', givenName: 'givenName' } });
    expect(multi.json().emails).toHaveLength(1);

    // Update User [Single-valued properties]
    const newName = `${uid()}@testuser.com`;
    const single = await c.patch(`/scim/v2/Users/${user.id}`, [{ op: 'Replace', path: 'userName', value: newName }]);
    expect(single.statusCode, single.body).toBe(200);
    expect(single.json().userName).toBe(newName);

    // Disable User (documented with a JSON boolean)
    const disabled = await c.patch(`/scim/v2/Users/${user.id}`, [{ op: 'Replace', path: 'active', value: false }]);
    expect(disabled.statusCode, disabled.body).toBe(200);
    expect(disabled.json().active).toBe(false);

    const native = await s.request({ method: 'GET', url: `/v1/users/${user.id}` });
    expect(native.json()).toMatchObject({ userName: newName, email: 'updatedEmail@microsoft.com', familyName: 'updatedFamilyName', status: 'suspended' });

    // Delete User
    const deleted = await c.delete(`/scim/v2/Users/${user.id}`);
    expect(deleted.statusCode).toBe(204);
    expect(deleted.body).toBe('');
    expectScimError(await c.get(`/scim/v2/Users/${user.id}`), 404);
    expect((await s.request({ method: 'GET', url: `/v1/users/${user.id}` })).statusCode).toBe(404);
  });
});

describe('Entra ID: group operations as documented', () => {
  it('create group, get group, get by displayName, update non-member attributes, add member, remove member, delete', async () => {
    const c = await client();
    const member = await createScimUser(c, `member-${uid()}@contoso.com`);
    const externalId = `8aa1a0c0-c4c3-4bc0-b4a5-${uid()}`;
    const displayName = `displayName-${uid()}`;

    // Create Group (Entra sends its own ADSCIM schema URN next to the core one)
    const created = await c.post('/scim/v2/Groups', { schemas: [URN.group, ADSCIM_GROUP], externalId, displayName, meta: { resourceType: 'Group' } });
    expect(created.statusCode, created.body).toBe(201);
    const group = created.json();
    expect(group).toMatchObject({ schemas: [URN.group], id: expect.any(String), externalId, displayName, meta: { resourceType: 'Group', location: expect.stringContaining(`/scim/v2/Groups/${group.id}`) } });

    // Get Group
    const got = await c.get(`/scim/v2/Groups/${group.id}?excludedAttributes=members`);
    expect(got.statusCode, got.body).toBe(200);
    expect(got.json()).toMatchObject({ id: group.id, displayName, externalId });
    expect(got.json()).not.toHaveProperty('members');

    // Get Group by displayName
    const byName = await c.get(filterUrl('Groups', `displayName eq "${displayName}"`, 'excludedAttributes=members'));
    expect(byName.statusCode, byName.body).toBe(200);
    expect(byName.json()).toMatchObject({ totalResults: 1, itemsPerPage: 1, startIndex: 1 });
    expect(ids(byName)).toEqual([group.id]);
    expect(byName.json().Resources[0]).not.toHaveProperty('members');

    // Update Group [Non-member attributes]
    const renamed = `${uid()}updatedDisplayName`;
    const rename = await c.patch(`/scim/v2/Groups/${group.id}`, [{ op: 'Replace', path: 'displayName', value: renamed }]);
    expect(rename.statusCode, rename.body).toBe(204);
    expect((await c.get(`/scim/v2/Groups/${group.id}`)).json().displayName).toBe(renamed);

    // Update Group [Add Members]
    const add = await c.patch(`/scim/v2/Groups/${group.id}`, [{ op: 'Add', path: 'members', value: [{ $ref: null, value: member.id }] }]);
    expect(add.statusCode, add.body).toBe(204);
    const withMember = (await c.get(`/scim/v2/Groups/${group.id}`)).json();
    expect(withMember.members).toEqual([expect.objectContaining({ value: member.id })]);
    expect((await c.get(`/scim/v2/Users/${member.id}`)).json().groups).toEqual([expect.objectContaining({ value: group.id, display: renamed })]);

    // Update Group [Remove Members]
    const remove = await c.patch(`/scim/v2/Groups/${group.id}`, [{ op: 'Remove', path: 'members', value: [{ $ref: null, value: member.id }] }]);
    expect(remove.statusCode, remove.body).toBe(204);
    expect((await c.get(`/scim/v2/Groups/${group.id}`)).json().members ?? []).toEqual([]);

    // Delete Group
    expect((await c.delete(`/scim/v2/Groups/${group.id}`)).statusCode).toBe(204);
    expectScimError(await c.get(`/scim/v2/Groups/${group.id}`), 404);
    // The member is still there.
    expect((await c.get(`/scim/v2/Users/${member.id}`)).statusCode).toBe(200);
  });
});

describe('Entra ID quirks', () => {
  it('takes op in any case ("Replace", "ADD", "remove")', async () => {
    const c = await client();
    const user = await createScimUser(c, `case-${uid()}@contoso.com`);
    const res = await c.patch(`/scim/v2/Users/${user.id}`, [
      { op: 'REPLACE', path: 'displayName', value: 'Upper' },
      { op: 'aDd', path: 'title', value: 'Mixed' },
      { op: 'Remove', path: 'name.givenName' },
    ]);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ displayName: 'Upper', title: 'Mixed' });
    expect(res.json().name?.givenName).toBeUndefined();
  });

  it('reads "False", "True" and "true" strings as booleans (active, primary)', async () => {
    const c = await client();
    const user = await createScimUser(c, `bool-${uid()}@contoso.com`);
    const off = await c.patch(`/scim/v2/Users/${user.id}`, [{ op: 'Replace', path: 'active', value: 'False' }]);
    expect(off.statusCode, off.body).toBe(200);
    expect(off.json().active).toBe(false);
    expect((await s.request({ method: 'GET', url: `/v1/users/${user.id}` })).json().status).toBe('suspended');
    const on = await c.patch(`/scim/v2/Users/${user.id}`, [{ op: 'Replace', path: 'active', value: 'True' }]);
    expect(on.json().active).toBe(true);
    expect((await s.request({ method: 'GET', url: `/v1/users/${user.id}` })).json().status).toBe('active');

    const created = await c.post('/scim/v2/Users', { schemas: [URN.user], userName: `strbool-${uid()}@contoso.com`, active: 'true', emails: [{ value: 'a@contoso.com', type: 'work', primary: 'true' }] });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json()).toMatchObject({ active: true, emails: [{ value: 'a@contoso.com', type: 'work', primary: true }] });
  });

  it('takes Add on a single-valued attribute as a set (also over an existing value)', async () => {
    const c = await client();
    const user = await createScimUser(c, `addsingle-${uid()}@contoso.com`, { title: 'Before' });
    const res = await c.patch(`/scim/v2/Users/${user.id}`, [
      { op: 'Add', path: 'title', value: 'After' },
      { op: 'Add', path: 'name.givenName', value: 'Given' },
    ]);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ title: 'After', name: { givenName: 'Given' } });
  });

  it('Add on emails[type eq "work"].value creates the work email when the user has none', async () => {
    const c = await client();
    const user = await createScimUser(c, `noemail-${uid()}@contoso.com`);
    expect(user).not.toHaveProperty('emails');
    const res = await c.patch(`/scim/v2/Users/${user.id}`, [{ op: 'Add', path: 'emails[type eq "work"].value', value: 'new-work@contoso.com' }]);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().emails).toEqual([{ type: 'work', value: 'new-work@contoso.com' }]);
    expect((await s.request({ method: 'GET', url: `/v1/users/${user.id}` })).json().email).toBe('new-work@contoso.com');

    // A second Add of the same path updates that element, it does not add another.
    const again = await c.patch(`/scim/v2/Users/${user.id}`, [{ op: 'Add', path: 'emails[type eq "work"].value', value: 'newer@contoso.com' }]);
    expect(again.json().emails).toEqual([{ type: 'work', value: 'newer@contoso.com' }]);
  });

  it('takes URN-qualified paths for core and enterprise attributes', async () => {
    const c = await client();
    const user = await createScimUser(c, `urn-${uid()}@contoso.com`);
    const res = await c.patch(`/scim/v2/Users/${user.id}`, [
      { op: 'Add', path: `${URN.enterprise}:employeeNumber`, value: '701984' },
      { op: 'Replace', path: `${URN.enterprise}:department`, value: 'Tour Operations' },
      { op: 'Replace', path: `${URN.user}:title`, value: 'Tour Guide' },
      { op: 'Replace', path: `${URN.user}:name.familyName`, value: 'Urnson' },
    ]);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ title: 'Tour Guide', name: { familyName: 'Urnson' }, [URN.enterprise]: { employeeNumber: '701984', department: 'Tour Operations' } });
    expect((await s.request({ method: 'GET', url: `/v1/users/${user.id}` })).json()).toMatchObject({ employeeId: '701984', department: 'Tour Operations', title: 'Tour Guide' });
  });

  it('takes a path-less replace whose keys are dotted or URN-qualified names', async () => {
    const c = await client();
    const user = await createScimUser(c, `pathless-${uid()}@contoso.com`);
    const res = await c.patch(`/scim/v2/Users/${user.id}`, [
      {
        op: 'replace',
        value: {
          'name.givenName': 'Dotted',
          'name.familyName': 'Keys',
          [`${URN.enterprise}:department`]: 'Flat URN',
          [URN.enterprise]: { costCenter: 'CC-7' },
          displayName: 'Plain',
          active: 'False',
        },
      },
    ]);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ displayName: 'Plain', active: false, name: { givenName: 'Dotted', familyName: 'Keys' }, [URN.enterprise]: { department: 'Flat URN', costCenter: 'CC-7' } });
  });

  it('replaces manager with {"value": id} or with a bare id, and refuses an id that is no user', async () => {
    const c = await client();
    const boss = await createScimUser(c, `boss-${uid()}@contoso.com`, { displayName: 'The Boss' });
    const other = await createScimUser(c, `boss2-${uid()}@contoso.com`);
    const user = await createScimUser(c, `report-${uid()}@contoso.com`);
    const asObject = await c.patch(`/scim/v2/Users/${user.id}`, [{ op: 'Replace', path: `${URN.enterprise}:manager`, value: { value: boss.id } }]);
    expect(asObject.statusCode, asObject.body).toBe(200);
    expect(asObject.json()[URN.enterprise].manager).toMatchObject({ value: boss.id, $ref: expect.stringContaining(`/Users/${boss.id}`), displayName: 'The Boss' });
    expect((await s.request({ method: 'GET', url: `/v1/users/${user.id}` })).json().managerId).toBe(boss.id);

    const bare = await c.patch(`/scim/v2/Users/${user.id}`, [{ op: 'Replace', path: `${URN.enterprise}:manager`, value: other.id }]);
    expect(bare.statusCode, bare.body).toBe(200);
    expect(bare.json()[URN.enterprise].manager.value).toBe(other.id);

    const unknown = await c.patch(`/scim/v2/Users/${user.id}`, [{ op: 'Replace', path: `${URN.enterprise}:manager`, value: '00000000-0000-4000-8000-000000000000' }]);
    expect(unknown.statusCode, unknown.body).toBeGreaterThanOrEqual(400);
    expect(unknown.statusCode, unknown.body).toBeLessThan(500);
    expect(unknown.json().schemas).toEqual([URN.error]);
    expect((await s.request({ method: 'GET', url: `/v1/users/${user.id}` })).json().managerId).toBe(other.id);
  });

  it('removes members given as a value array (several at once), leaving the others', async () => {
    const c = await client();
    const [a, b, keep] = await Promise.all(['a', 'b', 'keep'].map((n) => createScimUser(c, `${n}-${uid()}@contoso.com`)));
    const group = (await c.post('/scim/v2/Groups', { schemas: [URN.group], displayName: `g-${uid()}`, members: [a, b, keep].map((u) => ({ value: u?.id })) })).json();
    expect(group.members).toHaveLength(3);
    const res = await c.patch(`/scim/v2/Groups/${group.id}`, [{ op: 'Remove', path: 'members', value: [{ value: a?.id }, { value: b?.id }] }]);
    expect(res.statusCode, res.body).toBe(204);
    expect((await c.get(`/scim/v2/Groups/${group.id}`)).json().members.map((m: { value: string }) => m.value)).toEqual([keep?.id]);
  });

  it('answers the connection test (a filter on a random userName) with 200 and an empty list', async () => {
    const c = await client();
    const random = crypto.randomUUID();
    const res = await c.get(filterUrl('Users', `userName eq "${random}"`));
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toContain('application/scim+json');
    expect(res.json()).toMatchObject({ schemas: [URN.list], totalResults: 0, Resources: [] });
    const groups = await c.get(filterUrl('Groups', `displayName eq "${random}"`, 'excludedAttributes=members'));
    expect(groups.statusCode, groups.body).toBe(200);
    expect(groups.json()).toMatchObject({ totalResults: 0, Resources: [] });
  });
});
