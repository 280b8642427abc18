import { describe, expect, it } from 'vitest';
import { useTestApp, type TestApp } from '../helpers/test-app.js';
import { createIdentityProvider, createOtherTenant, tokenWithScopes } from '../helpers/directory-fixtures.js';

let t: TestApp;
let token: string;
useTestApp((app, adminToken) => {
  t = app;
  token = adminToken;
});

let seq = 0;
const unique = (prefix: string) => `${prefix}-${++seq}-${Date.now().toString(36)}`;
const MISSING = '0190a0a0-0000-7000-8000-000000000000';

async function createUser(bearer = token) {
  const res = await t.request({ method: 'POST', url: '/v1/users', token: bearer, payload: { userName: unique('linked'), email: `${unique('e')}@example.com` } });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { id: string; userName: string };
}

async function identityEvents(userId: string) {
  const items = (await t.request({ method: 'GET', url: `/v1/users/${userId}/history?limit=1000`, token })).json().items as { type: string; changes: Record<string, { from: unknown; to: unknown }> }[];
  return items.filter((e) => e.type.startsWith('user.identity_')).reverse();
}

describe('identity links', () => {
  it('links, lists, looks up by subject and unlinks, with events', async () => {
    const user = await createUser();
    const entra = await createIdentityProvider(t, { name: 'Entra ID', alias: unique('entra') });
    const okta = await createIdentityProvider(t, { name: 'Okta', alias: unique('okta') });

    const linked = await t.request({ method: 'POST', url: `/v1/users/${user.id}/identities`, token, payload: { providerId: entra.id, subject: 'oid-123', userName: 'ada@corp.example' } });
    expect(linked.statusCode, linked.body).toBe(201);
    const link = linked.json();
    expect(link).toEqual({ id: expect.any(String), providerId: entra.id, providerName: 'Entra ID', providerAlias: entra.alias, subject: 'oid-123', userName: 'ada@corp.example', createdAt: expect.any(String) });
    // A subject with characters that need encoding in a URL.
    const odd = 'auth0|abc/def ü';
    const second = await t.request({ method: 'POST', url: `/v1/users/${user.id}/identities`, token, payload: { providerId: okta.id, subject: odd } });
    expect(second.statusCode).toBe(201);
    expect(second.json().userName).toBeNull();

    const list = await t.request({ method: 'GET', url: `/v1/users/${user.id}/identities`, token });
    expect(list.json().items.map((i: { subject: string }) => i.subject)).toEqual(['oid-123', odd]);

    const full = (await t.request({ method: 'GET', url: `/v1/users/${user.id}`, token })).json();
    const bySubject = await t.request({ method: 'GET', url: `/v1/identity-providers/${entra.id}/users/oid-123`, token });
    expect(bySubject.statusCode).toBe(200);
    expect(bySubject.json()).toEqual(full);
    expect(bySubject.headers.etag).toBe('W/"1"');
    const byOdd = await t.request({ method: 'GET', url: `/v1/identity-providers/${okta.id}/users/${encodeURIComponent(odd)}`, token });
    expect(byOdd.statusCode, byOdd.body).toBe(200);
    expect(byOdd.json().id).toBe(user.id);
    // Subjects are exact: another case or another provider is not the same account.
    expect((await t.request({ method: 'GET', url: `/v1/identity-providers/${entra.id}/users/OID-123`, token })).json().code).toBe('identity.not_found');
    expect((await t.request({ method: 'GET', url: `/v1/identity-providers/${okta.id}/users/oid-123`, token })).json().code).toBe('identity.not_found');
    expect((await t.request({ method: 'GET', url: `/v1/identity-providers/${MISSING}/users/oid-123`, token })).json().code).toBe('identity_provider.not_found');

    expect((await t.request({ method: 'DELETE', url: `/v1/users/${user.id}/identities/${link.id}`, token })).statusCode).toBe(204);
    const again = await t.request({ method: 'DELETE', url: `/v1/users/${user.id}/identities/${link.id}`, token });
    expect(again.statusCode).toBe(404);
    expect(again.json().code).toBe('identity.not_found');
    expect((await t.request({ method: 'GET', url: `/v1/identity-providers/${entra.id}/users/oid-123`, token })).statusCode).toBe(404);
    expect((await t.request({ method: 'GET', url: `/v1/users/${user.id}/identities`, token })).json().items).toHaveLength(1);

    const events = await identityEvents(user.id);
    expect(events.map((e) => e.type)).toEqual(['user.identity_linked', 'user.identity_linked', 'user.identity_unlinked']);
    expect(events[0]!.changes).toEqual({ identity: { from: null, to: { id: link.id, providerId: entra.id, subject: 'oid-123', userName: 'ada@corp.example' } } });
    expect(events[2]!.changes).toEqual({ identity: { from: { id: link.id, providerId: entra.id, subject: 'oid-123', userName: 'ada@corp.example' }, to: null } });
  });

  it('keeps (provider, subject) unique and refuses bad links without writing anything', async () => {
    const ada = await createUser();
    const bob = await createUser();
    const idp = await createIdentityProvider(t);
    const other = await createIdentityProvider(t);
    const otherTenantToken = await createOtherTenant(t, 'identities-other');
    const foreignIdp = await createIdentityProvider(t, { token: otherTenantToken });
    expect((await t.request({ method: 'POST', url: `/v1/users/${ada.id}/identities`, token, payload: { providerId: idp.id, subject: 'S-1' } })).statusCode).toBe(201);

    const cases = [
      { user: bob.id, payload: { providerId: idp.id, subject: 'S-1' }, status: 409, code: 'identity.subject_taken' },
      { user: ada.id, payload: { providerId: idp.id, subject: 'S-1' }, status: 409, code: 'identity.subject_taken' },
      { user: bob.id, payload: { providerId: MISSING, subject: 'S-2' }, status: 422, code: 'directory.reference_not_found' },
      { user: bob.id, payload: { providerId: foreignIdp.id, subject: 'S-2' }, status: 422, code: 'directory.reference_not_found' },
      { user: MISSING, payload: { providerId: idp.id, subject: 'S-2' }, status: 404, code: 'user.not_found' },
      { user: bob.id, payload: { providerId: idp.id, subject: '' }, status: 400, code: 'request.validation_failed' },
      { user: bob.id, payload: { providerId: idp.id }, status: 400, code: 'request.validation_failed' },
      { user: bob.id, payload: { providerId: 'nope', subject: 'S-2' }, status: 400, code: 'request.validation_failed' },
      { user: bob.id, payload: { providerId: idp.id, subject: 'S-2', admin: true }, status: 400, code: 'request.validation_failed' },
      { user: bob.id, payload: { providerId: idp.id, subject: 'x'.repeat(513) }, status: 400, code: 'request.validation_failed' },
    ];
    for (const c of cases) {
      const res = await t.request({ method: 'POST', url: `/v1/users/${c.user}/identities`, token, payload: c.payload });
      expect(res.statusCode, JSON.stringify(c.payload).slice(0, 80)).toBe(c.status);
      expect(res.json().code).toBe(c.code);
    }
    expect((await t.request({ method: 'GET', url: `/v1/users/${bob.id}/identities`, token })).json().items).toEqual([]);
    expect(await identityEvents(bob.id)).toEqual([]);
    expect(await identityEvents(ada.id)).toHaveLength(1);
    // The same subject at another provider is another account.
    expect((await t.request({ method: 'POST', url: `/v1/users/${bob.id}/identities`, token, payload: { providerId: other.id, subject: 'S-1' } })).statusCode).toBe(201);

    // Another tenant sees none of it.
    const adaLink = (await t.request({ method: 'GET', url: `/v1/users/${ada.id}/identities`, token })).json().items[0];
    const probes = [
      { method: 'GET', url: `/v1/users/${ada.id}/identities`, code: 'user.not_found' },
      { method: 'DELETE', url: `/v1/users/${ada.id}/identities/${adaLink.id}`, code: 'user.not_found' },
      { method: 'GET', url: `/v1/identity-providers/${idp.id}/users/S-1`, code: 'identity_provider.not_found' },
    ] as const;
    for (const p of probes) {
      const res = await t.request({ method: p.method, url: p.url, token: otherTenantToken });
      expect(res.statusCode, p.url).toBe(404);
      expect(res.json().code).toBe(p.code);
    }
    const theirUser = await createUser(otherTenantToken);
    const cross = await t.request({ method: 'POST', url: `/v1/users/${theirUser.id}/identities`, token: otherTenantToken, payload: { providerId: idp.id, subject: 'S-9' } });
    expect(cross.statusCode).toBe(422);
    // Deleting through the wrong user is not found either.
    const wrongUser = await t.request({ method: 'DELETE', url: `/v1/users/${bob.id}/identities/${adaLink.id}`, token });
    expect(wrongUser.statusCode).toBe(404);
    expect(wrongUser.json().code).toBe('identity.not_found');
    expect((await t.request({ method: 'GET', url: `/v1/users/${ada.id}/identities`, token })).json().items).toHaveLength(1);
  });

  it('replays a link retried with the same Idempotency-Key', async () => {
    const user = await createUser();
    const idp = await createIdentityProvider(t);
    const send = () => t.request({ method: 'POST', url: `/v1/users/${user.id}/identities`, token, headers: { 'idempotency-key': `link-${user.id}` }, payload: { providerId: idp.id, subject: 'retry-me' } });
    const first = await send();
    const second = await send();
    expect(first.statusCode).toBe(201);
    expect(second.statusCode).toBe(201);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.json()).toEqual(first.json());
    expect(await identityEvents(user.id)).toHaveLength(1);
  });

  it('requires users:read to read links and users:write to change them', async () => {
    const user = await createUser();
    const idp = await createIdentityProvider(t);
    const reader = await tokenWithScopes(t, ['users:read']);
    const directory = await tokenWithScopes(t, ['directory:write']);
    expect((await t.request({ method: 'GET', url: `/v1/users/${user.id}/identities`, token: reader })).statusCode).toBe(200);
    expect((await t.request({ method: 'POST', url: `/v1/users/${user.id}/identities`, token: reader, payload: { providerId: idp.id, subject: 'r' } })).statusCode).toBe(403);
    expect((await t.request({ method: 'GET', url: `/v1/identity-providers/${idp.id}/users/r`, token: directory })).statusCode).toBe(403);
    expect((await t.request({ method: 'GET', url: `/v1/identity-providers/${idp.id}/users/r`, token: reader })).statusCode).toBe(404);
  });

  it("drops a deleted user's links, freeing the subject", async () => {
    const user = await createUser();
    const idp = await createIdentityProvider(t);
    await t.request({ method: 'POST', url: `/v1/users/${user.id}/identities`, token, payload: { providerId: idp.id, subject: 'reused' } });
    expect((await t.request({ method: 'DELETE', url: `/v1/users/${user.id}`, token })).statusCode).toBe(204);
    expect((await t.request({ method: 'GET', url: `/v1/identity-providers/${idp.id}/users/reused`, token })).statusCode).toBe(404);
    const next = await createUser();
    expect((await t.request({ method: 'POST', url: `/v1/users/${next.id}/identities`, token, payload: { providerId: idp.id, subject: 'reused' } })).statusCode).toBe(201);
  });
});
