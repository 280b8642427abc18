import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/test-app.js';

let t: TestApp;
let admin: string;
beforeAll(async () => {
  t = await createTestApp();
  admin = await t.adminToken();
});
afterAll(async () => {
  await t?.close();
});

describe('API clients', () => {
  it('shows the secret once, never again, and rotates it', async () => {
    const created = await t.request({ method: 'POST', url: '/v1/clients', token: admin, payload: { name: 'HR feed', scopes: ['users:write'] } });
    expect(created.statusCode).toBe(201);
    const client = created.json();
    expect(client.clientSecret).toMatch(/^rcs_/);
    expect(client).not.toHaveProperty('secretHash');

    const fetched = await t.request({ method: 'GET', url: `/v1/clients/${client.id}`, token: admin });
    expect(fetched.json()).not.toHaveProperty('clientSecret');
    expect(fetched.json()).not.toHaveProperty('secretHash');
    const listed = await t.request({ method: 'GET', url: '/v1/clients', token: admin });
    expect(JSON.stringify(listed.json())).not.toContain(client.clientSecret);

    await t.token(client.clientId, client.clientSecret);
    const rotated = await t.request({ method: 'POST', url: `/v1/clients/${client.id}/rotate-secret`, token: admin });
    expect(rotated.statusCode).toBe(200);
    await expect(t.token(client.clientId, client.clientSecret)).rejects.toThrow(/401/);
    await t.token(client.clientId, rotated.json().clientSecret);
  });

  it('cannot be given scopes the creator lacks or unknown scopes', async () => {
    const reader = await t.request({ method: 'POST', url: '/v1/clients', token: admin, payload: { name: 'bad', scopes: ['users:read', 'root'] } });
    expect(reader.statusCode).toBe(422);
    expect(reader.json().code).toBe('client.invalid_scopes');
  });

  it('stops authenticating once deleted', async () => {
    const client = (await t.request({ method: 'POST', url: '/v1/clients', token: admin, payload: { name: 'temp', scopes: ['users:read'] } })).json();
    expect((await t.request({ method: 'DELETE', url: `/v1/clients/${client.id}`, token: admin })).statusCode).toBe(204);
    await expect(t.token(client.clientId, client.clientSecret)).rejects.toThrow(/401/);
    expect((await t.request({ method: 'DELETE', url: `/v1/clients/${client.id}`, token: admin })).statusCode).toBe(404);
  });

  it('needs the admin scope', async () => {
    const writer = (await t.request({ method: 'POST', url: '/v1/clients', token: admin, payload: { name: 'w', scopes: ['users:write'] } })).json();
    const token = await t.token(writer.clientId, writer.clientSecret);
    const res = await t.request({ method: 'GET', url: '/v1/clients', token });
    expect(res.statusCode).toBe(403);
  });
});

describe('API tokens', () => {
  it('authenticate as bearer tokens, are shown once and die when deleted', async () => {
    const created = await t.request({ method: 'POST', url: '/v1/api-tokens', token: admin, payload: { name: 'Entra SCIM', scopes: ['users:read'] } });
    expect(created.statusCode).toBe(201);
    const { id, token } = created.json();
    expect(token).toMatch(/^rst_/);
    const shown = await t.request({ method: 'GET', url: `/v1/api-tokens/${id}`, token: admin });
    expect(shown.json()).not.toHaveProperty('token');
    expect(shown.json().prefix).toBe(token.slice(0, 10));

    expect((await t.request({ method: 'GET', url: '/v1/users', token })).statusCode).toBe(200);
    expect((await t.request({ method: 'POST', url: '/v1/users', token, payload: { userName: 'x' } })).statusCode).toBe(403);
    expect((await t.request({ method: 'GET', url: `/v1/api-tokens/${id}`, token: admin })).json().lastUsedAt).not.toBeNull();

    expect((await t.request({ method: 'DELETE', url: `/v1/api-tokens/${id}`, token: admin })).statusCode).toBe(204);
    expect((await t.request({ method: 'GET', url: '/v1/users', token })).statusCode).toBe(401);
  });

  it('expire at expiresAt', async () => {
    const expiresAt = new Date(Date.now() + 3600_000).toISOString();
    const { token } = (await t.request({ method: 'POST', url: '/v1/api-tokens', token: admin, payload: { name: 'short', scopes: ['users:read'], expiresAt } })).json();
    expect((await t.request({ method: 'GET', url: '/v1/users', token })).statusCode).toBe(200);
    t.clock.advance(3601);
    try {
      const res = await t.request({ method: 'GET', url: '/v1/users', token });
      expect(res.statusCode).toBe(401);
      expect(res.json().detail).toContain('expired');
    } finally {
      t.clock.advance(-3601);
    }
    const past = await t.request({ method: 'POST', url: '/v1/api-tokens', token: admin, payload: { name: 'past', scopes: ['users:read'], expiresAt: '2000-01-01T00:00:00Z' } });
    expect(past.statusCode).toBe(400);
  });
});

describe('tenants', () => {
  it('are managed by installation admins and isolate everything', async () => {
    const created = await t.request({ method: 'POST', url: '/v1/tenants', token: admin, payload: { id: 'acme', name: 'Acme' } });
    expect(created.statusCode).toBe(201);
    expect((await t.request({ method: 'POST', url: '/v1/tenants', token: admin, payload: { id: 'acme', name: 'Again' } })).json().code).toBe('tenant.id_taken');
    expect((await t.request({ method: 'POST', url: '/v1/tenants', token: admin, payload: { id: 'Bad Id!', name: 'x' } })).statusCode).toBe(400);
    expect((await t.request({ method: 'GET', url: '/v1/tenants/acme', token: admin })).json().name).toBe('Acme');

    // A client created for acme by the installation admin is an admin of acme only.
    const acmeAdmin = (await t.request({ method: 'POST', url: '/v1/clients', token: admin, payload: { name: 'acme admin', scopes: ['admin'], tenantId: 'acme' } })).json();
    expect(acmeAdmin.tenantId).toBe('acme');
    const acmeToken = await t.token(acmeAdmin.clientId, acmeAdmin.clientSecret);
    expect((await t.request({ method: 'GET', url: '/v1/tenants', token: acmeToken })).statusCode).toBe(403);
    const crossClient = await t.request({ method: 'POST', url: '/v1/clients', token: acmeToken, payload: { name: 'x', scopes: ['users:read'], tenantId: 'default' } });
    // The tenant is an id inside the body: another or an unknown tenant is a 422 naming /body/tenantId.
    expect(crossClient.statusCode).toBe(422);
    expect(crossClient.json()).toMatchObject({ code: 'client.tenant_not_found', errors: [{ field: '/body/tenantId', message: 'no such tenant' }] });
    const unknownTenant = await t.request({ method: 'POST', url: '/v1/clients', token: admin, payload: { name: 'x', scopes: ['users:read'], tenantId: 'no-such-tenant' } });
    expect(unknownTenant.statusCode).toBe(422);
    expect(unknownTenant.json()).toMatchObject({ code: 'client.tenant_not_found', errors: [{ field: '/body/tenantId' }] });

    // ?tenantId= names the tenant the URL addresses: an unknown one is a 404, as in the CLI, never an empty list.
    const acmeClients = await t.request({ method: 'GET', url: '/v1/clients?tenantId=acme', token: admin });
    expect(acmeClients.json().items.map((c: { id: string }) => c.id)).toEqual([acmeAdmin.id]);
    const nope = await t.request({ method: 'GET', url: '/v1/clients?tenantId=nope', token: admin });
    expect(nope.statusCode, nope.body).toBe(404);
    expect(nope.json()).toMatchObject({ code: 'tenant.not_found', detail: expect.stringContaining('nope') });
    expect((await t.request({ method: 'GET', url: '/v1/clients?tenantId=default', token: acmeToken })).json().code).toBe('tenant.not_found');

    const user = (await t.request({ method: 'POST', url: '/v1/users', token: admin, payload: { userName: 'default-only', externalIds: [{ origin: 'hr', key: '1' }] } })).json();
    const probes = [
      { method: 'GET', url: `/v1/users/${user.id}` },
      { method: 'PUT', url: `/v1/users/${user.id}`, payload: { userName: 'stolen' } },
      { method: 'PATCH', url: `/v1/users/${user.id}`, payload: { title: 'x' } },
      { method: 'POST', url: `/v1/users/${user.id}/deactivate` },
      { method: 'GET', url: `/v1/users/${user.id}/history` },
      { method: 'GET', url: '/v1/users/by-username/default-only' },
      { method: 'GET', url: '/v1/users/by-external-id/hr/1' },
      { method: 'DELETE', url: `/v1/users/${user.id}` },
    ] as const;
    for (const probe of probes) {
      const res = await t.request({ ...probe, token: acmeToken });
      expect(res.statusCode, `${probe.method} ${probe.url}`).toBe(404);
      expect(res.json().code).toBe('user.not_found');
    }
    const list = await t.request({ method: 'GET', url: '/v1/users?$count=true', token: acmeToken });
    expect(list.json()).toMatchObject({ items: [], count: 0 });
    const events = await t.request({ method: 'GET', url: '/v1/events', token: acmeToken });
    expect(events.json().items).toEqual([]);
    // The same userName is free in another tenant.
    expect((await t.request({ method: 'POST', url: '/v1/users', token: acmeToken, payload: { userName: 'default-only', externalIds: [{ origin: 'hr', key: '1' }] } })).statusCode).toBe(201);
    // And the default tenant's user is untouched.
    expect((await t.request({ method: 'GET', url: `/v1/users/${user.id}`, token: admin })).json()).toMatchObject({ userName: 'default-only', version: 1, status: 'active' });
  });

  it('deletes a tenant with all its data, but never the default tenant', async () => {
    await t.request({ method: 'POST', url: '/v1/tenants', token: admin, payload: { id: 'gone', name: 'Gone' } });
    const c = (await t.request({ method: 'POST', url: '/v1/clients', token: admin, payload: { name: 'g', scopes: ['users:write'], tenantId: 'gone' } })).json();
    const token = await t.token(c.clientId, c.clientSecret);
    await t.request({ method: 'POST', url: '/v1/users', token, payload: { userName: 'someone' } });
    expect((await t.request({ method: 'DELETE', url: '/v1/tenants/gone', token: admin })).statusCode).toBe(204);
    // The access token is still a validly signed JWT, but its tenant is gone.
    const orphan = await t.request({ method: 'POST', url: '/v1/users', token, payload: { userName: 'ghost' } });
    expect(orphan.statusCode).toBe(401);
    expect(orphan.json().detail).toContain('deleted');
    await expect(t.token(c.clientId, c.clientSecret)).rejects.toThrow(/401/);
    expect((await t.request({ method: 'GET', url: '/v1/tenants/gone', token: admin })).statusCode).toBe(404);
    const protectedDefault = await t.request({ method: 'DELETE', url: '/v1/tenants/default', token: admin });
    expect(protectedDefault.statusCode).toBe(422);
    expect(protectedDefault.json().code).toBe('tenant.default_protected');
  });
});
