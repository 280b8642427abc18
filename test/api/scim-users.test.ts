import { describe, expect, it } from 'vitest';
import { useApiSuite } from '../helpers/test-app.js';

const s = useApiSuite();
const CORE = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

async function scimToken(settings: Record<string, unknown> = {}): Promise<string> {
  const res = await s.request({ method: 'POST', url: '/v1/api-tokens', payload: { name: s.unique('scim'), scopes: ['scim'], ...settings } });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().token as string;
}

describe('SCIM Users: the Entra ID provisioning sequence', () => {
  it('finds nothing, creates, finds by userName and externalId, patches, deactivates and deletes', async () => {
    const token = await scimToken({ origin: 'entra' });
    const scim = (options: Parameters<typeof s.request>[0]) => s.request({ ...options, token, headers: { 'content-type': 'application/scim+json', ...options.headers } });

    const probe = await scim({ method: 'GET', url: `/scim/v2/Users?filter=${encodeURIComponent('userName eq "nobody-' + s.unique('x') + '"')}` });
    expect(probe.statusCode, probe.body).toBe(200);
    expect(probe.json()).toMatchObject({ totalResults: 0, Resources: [], startIndex: 1, itemsPerPage: 0 });
    expect(probe.headers['content-type']).toContain('application/scim+json');

    const userName = `${s.unique('jane')}@contoso.com`;
    const created = await scim({
      method: 'POST',
      url: '/scim/v2/Users',
      payload: {
        schemas: [CORE, ENTERPRISE],
        externalId: 'jane-ext',
        userName,
        active: true,
        displayName: 'Jane Doe',
        emails: [{ primary: true, type: 'work', value: userName }],
        meta: { resourceType: 'User' },
        name: { formatted: 'Jane Doe', familyName: 'Doe', givenName: 'Jane' },
        roles: [],
        [ENTERPRISE]: { employeeNumber: 'E-1', department: 'R&D' },
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    const user = created.json();
    expect(user).toMatchObject({ userName, externalId: 'jane-ext', active: true, displayName: 'Jane Doe', name: { givenName: 'Jane', familyName: 'Doe', formatted: 'Jane Doe' } });
    expect(user[ENTERPRISE]).toEqual({ employeeNumber: 'E-1', department: 'R&D' });
    expect(user.meta).toMatchObject({ resourceType: 'User', version: 'W/"1"' });
    expect(created.headers.location).toBe(user.meta.location);
    expect(created.headers.etag).toBe('W/"1"');

    const byName = await scim({ method: 'GET', url: `/scim/v2/Users?filter=${encodeURIComponent(`userName eq "${userName.toUpperCase()}"`)}` });
    expect(byName.json().Resources.map((r: { id: string }) => r.id)).toEqual([user.id]);
    const byExternal = await scim({ method: 'GET', url: `/scim/v2/Users?filter=${encodeURIComponent('externalId eq "jane-ext"')}` });
    expect(byExternal.json().totalResults).toBe(1);
    const byEmail = await scim({ method: 'GET', url: `/scim/v2/Users?filter=${encodeURIComponent(`emails[type eq "work"].value eq "${userName}"`)}` });
    expect(byEmail.json().totalResults).toBe(1);

    const patched = await scim({
      method: 'PATCH',
      url: `/scim/v2/Users/${user.id}`,
      payload: {
        schemas: [PATCH],
        Operations: [
          { op: 'Replace', path: 'displayName', value: 'Jane Q. Doe' },
          { op: 'Add', path: 'title', value: 'Engineer' },
          { op: 'Replace', path: `${ENTERPRISE}:department`, value: 'Platform' },
          { op: 'Add', path: 'phoneNumbers[type eq "mobile"].value', value: '+1 555 0100' },
        ],
      },
    });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json()).toMatchObject({ displayName: 'Jane Q. Doe', title: 'Engineer', phoneNumbers: [{ type: 'mobile', value: '+1 555 0100' }] });
    expect(patched.json()[ENTERPRISE].department).toBe('Platform');

    const native = await s.request({ method: 'GET', url: `/v1/users/${user.id}` });
    expect(native.json()).toMatchObject({ displayName: 'Jane Q. Doe', title: 'Engineer', department: 'Platform', phone: '+1 555 0100', email: userName, provisionedBy: 'entra' });

    const again = await scim({ method: 'PATCH', url: `/scim/v2/Users/${user.id}`, payload: { schemas: [PATCH], Operations: [{ op: 'Replace', path: 'displayName', value: 'Jane Q. Doe' }] } });
    expect(again.json().meta.version).toBe(patched.json().meta.version);

    const off = await scim({ method: 'PATCH', url: `/scim/v2/Users/${user.id}`, payload: { schemas: [PATCH], Operations: [{ op: 'Replace', path: 'active', value: 'False' }] } });
    expect(off.statusCode, off.body).toBe(200);
    expect(off.json().active).toBe(false);
    expect((await s.request({ method: 'GET', url: `/v1/users/${user.id}` })).json().status).toBe('suspended');

    const history = await s.request({ method: 'GET', url: `/v1/users/${user.id}/history` });
    expect(history.statusCode, history.body).toBe(200);

    const deleted = await scim({ method: 'DELETE', url: `/scim/v2/Users/${user.id}` });
    expect(deleted.statusCode).toBe(204);
    const gone = await scim({ method: 'GET', url: `/scim/v2/Users/${user.id}` });
    expect(gone.statusCode).toBe(404);
    expect(gone.json()).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '404' });
  });
});

describe('SCIM Users written through the native API', () => {
  it('show their email and phone as SCIM lists, and a PATCH of something else leaves them as they are', async () => {
    const token = await scimToken({ origin: 'entra', owns: 'all' });
    const native = await s.request({ method: 'POST', url: '/v1/users', payload: { email: `${s.unique('nat')}@native.test`, phone: '+44 1', givenName: 'Nat' } });
    expect(native.statusCode, native.body).toBe(201);
    const { id, email } = native.json();
    const got = await s.request({ method: 'GET', url: `/scim/v2/Users/${id}`, token });
    expect(got.json()).toMatchObject({ emails: [{ value: email, type: 'work', primary: true }], phoneNumbers: [{ value: '+44 1', type: 'work', primary: true }], active: true });
    const patched = await s.request({ method: 'PATCH', url: `/scim/v2/Users/${id}`, token, payload: { Operations: [{ op: 'replace', path: 'title', value: 'Chief' }] } });
    expect(patched.statusCode, patched.body).toBe(200);
    const events = (await s.request({ method: 'GET', url: `/v1/users/${id}/history` })).json();
    const last = events.items[0];
    expect(Object.keys(last.changes)).toEqual(['title']);
    expect(last.actor).toMatchObject({ type: 'api_token' });
  });
});

describe('SCIM enterprise attributes written without their URN', () => {
  it('are read, patched and filtered like the qualified ones', async () => {
    const token = await scimToken({ origin: s.unique('bare') });
    const manager = await s.request({ method: 'POST', url: '/scim/v2/Users', token, payload: { userName: `${s.unique('boss')}@bare.test` } });
    const created = await s.request({ method: 'POST', url: '/scim/v2/Users', token, payload: { userName: `${s.unique('emp')}@bare.test`, employeeNumber: 'N-7', manager: manager.json().id } });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json()[ENTERPRISE]).toMatchObject({ employeeNumber: 'N-7', manager: { value: manager.json().id } });
    const patched = await s.request({ method: 'PATCH', url: `/scim/v2/Users/${created.json().id}`, token, payload: { Operations: [{ op: 'remove', path: 'manager' }, { op: 'replace', path: 'costCenter', value: 'CC9' }] } });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json()[ENTERPRISE]).toEqual({ employeeNumber: 'N-7', costCenter: 'CC9' });
    const found = await s.request({ method: 'GET', url: `/scim/v2/Users?filter=${encodeURIComponent('employeeNumber eq "n-7"')}`, token });
    expect(found.json().Resources.map((r: { id: string }) => r.id)).toEqual([created.json().id]);
  });
});
