import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { openRuntime } from '../../src/runtime.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';

let t: TestApp;
let admin: string;
/** A second server process on the same database, with caches of its own. */
let other: { request(options: InjectOptions & { token?: string }): Promise<LightMyRequestResponse>; close(): Promise<void> };

beforeAll(async () => {
  t = await createTestApp();
  admin = await t.adminToken();
  const runtime = await openRuntime(t.config, { clock: t.clock });
  const app = await buildApp({ config: t.config, services: runtime.services, logger: false });
  other = {
    request: ({ token, headers, ...options }) => app.inject({ ...options, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers } }),
    close: async () => {
      await app.close();
      await runtime.close();
    },
  };
});
afterAll(async () => {
  await other?.close();
  await t?.close();
});

interface TenantCredentials {
  accessToken: string;
  refreshToken: string;
  apiToken: string;
  clientId: string;
  clientSecret: string;
  clientRowId: string;
}

/** A tenant with an admin client (an access and a refresh token) and an admin API token, each used once in both processes. */
async function tenantWithCredentials(id: string, clientId?: string): Promise<TenantCredentials> {
  expect((await t.request({ method: 'POST', url: '/v1/tenants', token: admin, payload: { id, name: id } })).statusCode).toBe(201);
  const client = (await t.request({ method: 'POST', url: '/v1/clients', token: admin, payload: { name: 'tenant admin', scopes: ['admin'], tenantId: id, ...(clientId ? { clientId } : {}) } })).json();
  const issued = (await t.request({ method: 'POST', url: '/v1/oauth/token', payload: { grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret } })).json();
  const apiToken = (await t.request({ method: 'POST', url: '/v1/api-tokens', token: issued.access_token, payload: { name: 'scim', scopes: ['admin'] } })).json().token;
  for (const server of [t, other]) {
    for (const bearer of [issued.access_token, apiToken]) expect((await server.request({ method: 'GET', url: '/v1/users', token: bearer })).statusCode).toBe(200);
  }
  return { accessToken: issued.access_token, refreshToken: issued.refresh_token, apiToken, clientId: client.clientId, clientSecret: client.clientSecret, clientRowId: client.id };
}

describe('credentials never outlive the tenant or client they were issued to', () => {
  it('a deleted and recreated tenant accepts none of the old tenant’s tokens, in any process, at once', async () => {
    const old = await tenantWithCredentials('reborn');
    await t.request({ method: 'POST', url: '/v1/users', token: old.accessToken, payload: { userName: 'old-tenant-user' } });
    expect((await t.request({ method: 'DELETE', url: '/v1/tenants/reborn', token: admin })).statusCode).toBe(204);
    const fresh = await tenantWithCredentials('reborn');
    await t.request({ method: 'POST', url: '/v1/users', token: fresh.accessToken, payload: { userName: 'new-tenant-user' } });

    for (const server of [t, other]) {
      for (const bearer of [old.accessToken, old.apiToken]) {
        const read = await server.request({ method: 'GET', url: '/v1/users', token: bearer });
        expect(read.statusCode).toBe(401);
        expect(read.json().code).toBe('auth.invalid_token');
        const takeover = await server.request({ method: 'POST', url: '/v1/clients', token: bearer, payload: { name: 'backdoor', scopes: ['admin'] } });
        expect(takeover.statusCode).toBe(401);
      }
    }
    const refreshed = await t.request({ method: 'POST', url: '/v1/oauth/token', payload: { grant_type: 'refresh_token', refresh_token: old.refreshToken } });
    expect(refreshed.statusCode).toBe(400);
    expect(refreshed.json().error).toBe('invalid_grant');
    // The new tenant's own credentials work, and it holds only its own data.
    const users = (await other.request({ method: 'GET', url: '/v1/users', token: fresh.apiToken })).json();
    expect(users.items.map((u: { userName: string }) => u.userName)).toEqual(['new-tenant-user']);
    const clients = (await t.request({ method: 'GET', url: '/v1/clients', token: fresh.accessToken })).json();
    expect(clients.items.map((c: { id: string }) => c.id)).toEqual([fresh.clientRowId]);
  });

  it('a deleted client’s access tokens stop at once, and a client recreated with the same client_id does not revive them', async () => {
    const first = (await t.request({ method: 'POST', url: '/v1/clients', token: admin, payload: { name: 'feed', scopes: ['users:read'], clientId: 'hr-feed' } })).json();
    const oldToken = await t.token(first.clientId, first.clientSecret);
    for (const server of [t, other]) expect((await server.request({ method: 'GET', url: '/v1/users', token: oldToken })).statusCode).toBe(200);
    expect((await t.request({ method: 'DELETE', url: `/v1/clients/${first.id}`, token: admin })).statusCode).toBe(204);
    for (const server of [t, other]) expect((await server.request({ method: 'GET', url: '/v1/users', token: oldToken })).statusCode).toBe(401);

    const second = (await t.request({ method: 'POST', url: '/v1/clients', token: admin, payload: { name: 'feed again', scopes: ['admin'], clientId: 'hr-feed' } })).json();
    expect(second.clientId).toBe('hr-feed');
    for (const server of [t, other]) {
      const res = await server.request({ method: 'GET', url: '/v1/users', token: oldToken });
      expect(res.statusCode).toBe(401);
      expect(res.json().detail).toContain('deleted');
    }
    expect((await t.request({ method: 'GET', url: '/v1/users', token: await t.token('hr-feed', second.clientSecret) })).statusCode).toBe(200);
  });

  it('a client recreated with the same client_id does not inherit the idempotency keys (or stored responses) of the deleted one', async () => {
    const first = (await t.request({ method: 'POST', url: '/v1/clients', token: admin, payload: { name: 'loader', scopes: ['users:write'], clientId: 'hr-loader' } })).json();
    const post = async (token: string) =>
      t.request({ method: 'POST', url: '/v1/users', token, headers: { 'idempotency-key': 'load-0001' }, payload: { userName: 'idem-recreated@example.com' } });
    const created = await post(await t.token('hr-loader', first.clientSecret));
    expect(created.statusCode).toBe(201);
    expect((await t.request({ method: 'DELETE', url: `/v1/users/${created.json().id}`, token: admin })).statusCode).toBe(204);
    expect((await t.request({ method: 'DELETE', url: `/v1/clients/${first.id}`, token: admin })).statusCode).toBe(204);

    const second = (await t.request({ method: 'POST', url: '/v1/clients', token: admin, payload: { name: 'loader again', scopes: ['users:write'], clientId: 'hr-loader' } })).json();
    const again = await post(await t.token('hr-loader', second.clientSecret));
    // A replay would answer 201 with the deleted user's id and the Idempotent-Replayed header.
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBeUndefined();
    expect(again.json().id).not.toBe(created.json().id);
  });

  it('a deleted API token stops at once in every process', async () => {
    const created = (await t.request({ method: 'POST', url: '/v1/api-tokens', token: admin, payload: { name: 'short-lived', scopes: ['users:read'] } })).json();
    for (const server of [t, other]) expect((await server.request({ method: 'GET', url: '/v1/users', token: created.token })).statusCode).toBe(200);
    expect((await t.request({ method: 'DELETE', url: `/v1/api-tokens/${created.id}`, token: admin })).statusCode).toBe(204);
    for (const server of [t, other]) expect((await server.request({ method: 'GET', url: '/v1/users', token: created.token })).statusCode).toBe(401);
  });

  it('a revocation made in one process holds at once in another', async () => {
    const client = (await t.request({ method: 'POST', url: '/v1/clients', token: admin, payload: { name: 'revocable', scopes: ['users:read'] } })).json();
    const token = await t.token(client.clientId, client.clientSecret);
    expect((await other.request({ method: 'GET', url: '/v1/users', token })).statusCode).toBe(200);
    expect((await t.request({ method: 'POST', url: '/v1/oauth/revoke', payload: { token } })).statusCode).toBe(200);
    const res = await other.request({ method: 'GET', url: '/v1/users', token });
    expect(res.statusCode).toBe(401);
    expect(res.json().detail).toContain('revoked');
  });

  it('revoking a token of a deleted tenant or client is a quiet 200 (RFC 7009), never an error', async () => {
    const doomed = await tenantWithCredentials('revoke-after-delete');
    expect((await t.request({ method: 'DELETE', url: '/v1/tenants/revoke-after-delete', token: admin })).statusCode).toBe(204);
    expect((await t.request({ method: 'POST', url: '/v1/oauth/revoke', payload: { token: doomed.accessToken } })).statusCode).toBe(200);
    expect((await t.request({ method: 'POST', url: '/v1/oauth/revoke', payload: { token: doomed.refreshToken } })).statusCode).toBe(200);
  });

  it('a client may revoke only access tokens issued to it', async () => {
    const a = (await t.request({ method: 'POST', url: '/v1/clients', token: admin, payload: { name: 'a', scopes: ['users:read'] } })).json();
    const b = (await t.request({ method: 'POST', url: '/v1/clients', token: admin, payload: { name: 'b', scopes: ['users:read'] } })).json();
    const token = await t.token(a.clientId, a.clientSecret);
    const byOther = await t.request({ method: 'POST', url: '/v1/oauth/revoke', payload: { token, client_id: b.clientId, client_secret: b.clientSecret } });
    expect(byOther.statusCode).toBe(200);
    expect((await t.request({ method: 'GET', url: '/v1/users', token })).statusCode).toBe(200);
    await t.request({ method: 'POST', url: '/v1/oauth/revoke', payload: { token, client_id: a.clientId, client_secret: a.clientSecret } });
    expect((await t.request({ method: 'GET', url: '/v1/users', token })).statusCode).toBe(401);
  });
});

describe('$expand needs the scope of what it expands', () => {
  it('a users:read credential cannot read directory records through $expand, but may expand the manager and identity links', async () => {
    const group = (await t.request({ method: 'POST', url: '/v1/groups', token: admin, payload: { name: 'Secret project', description: 'codename X', externalIds: [{ origin: 'hr', key: 'x' }] } })).json();
    const manager = (await t.request({ method: 'POST', url: '/v1/users', token: admin, payload: { userName: 'expand-boss' } })).json();
    const user = (await t.request({ method: 'POST', url: '/v1/users', token: admin, payload: { userName: 'expand-member', managerId: manager.id } })).json();
    expect((await t.request({ method: 'POST', url: `/v1/users/${user.id}/groups/${group.id}`, token: admin })).statusCode).toBe(201);

    const clientWith = async (scopes: string[]) => {
      const c = (await t.request({ method: 'POST', url: '/v1/clients', token: admin, payload: { name: scopes.join(' '), scopes } })).json();
      return t.token(c.clientId, c.clientSecret);
    };
    const reader = await clientWith(['users:read']);
    const writer = await clientWith(['users:write']);
    expect((await t.request({ method: 'GET', url: '/v1/groups', token: reader })).statusCode).toBe(403);

    const urls = (relation: string) => [
      `/v1/users?$expand=${relation}`,
      `/v1/users?$filter=userName eq 'nobody-at-all'&$expand=${relation}`,
      `/v1/users/${user.id}?$expand=${relation}`,
      `/v1/users/by-username/expand-member?$expand=${relation}`,
    ];
    for (const relation of ['groups', 'roles', 'organizations', 'environments', 'position', 'area', 'groups($select=name)', 'manager,groups']) {
      for (const url of urls(relation)) {
        for (const bearer of [reader, writer]) {
          const res = await t.request({ method: 'GET', url, token: bearer });
          expect(res.statusCode, `${url}: ${res.body}`).toBe(403);
          expect(res.json().code).toBe('auth.forbidden');
          expect(res.json().detail).toContain('directory:read');
          expect(res.body).not.toContain('codename X');
        }
      }
    }
    for (const url of [...urls('manager'), ...urls('identities'), ...urls('manager,identities')]) {
      expect((await t.request({ method: 'GET', url, token: reader })).statusCode, url).toBe(200);
    }
    const withManager = (await t.request({ method: 'GET', url: `/v1/users/${user.id}?$expand=manager`, token: reader })).json();
    expect(withManager.manager).toMatchObject({ id: manager.id, userName: 'expand-boss' });

    const directoryReader = await clientWith(['users:read', 'directory:read']);
    const expanded = await t.request({ method: 'GET', url: `/v1/users/${user.id}?$expand=groups`, token: directoryReader });
    expect(expanded.statusCode).toBe(200);
    expect(expanded.json().groups).toMatchObject([{ id: group.id, description: 'codename X' }]);
  });

  it('nor through the user side of a membership list or a $filter over a relation', async () => {
    const group = (await t.request({ method: 'POST', url: '/v1/groups', token: admin, payload: { name: 'Engineering secrets' } })).json();
    const role = (await t.request({ method: 'POST', url: '/v1/roles', token: admin, payload: { name: 'Root-ish', weight: 90 } })).json();
    const user = (await t.request({ method: 'POST', url: '/v1/users', token: admin, payload: { userName: 'filter-member' } })).json();
    expect((await t.request({ method: 'POST', url: `/v1/users/${user.id}/groups/${group.id}`, token: admin })).statusCode).toBe(201);
    expect((await t.request({ method: 'POST', url: `/v1/users/${user.id}/roles/${role.id}`, token: admin })).statusCode).toBe(201);
    const c = (await t.request({ method: 'POST', url: '/v1/clients', token: admin, payload: { name: 'reader only', scopes: ['users:read'] } })).json();
    const reader = await t.token(c.clientId, c.clientSecret);
    const d = (await t.request({ method: 'POST', url: '/v1/clients', token: admin, payload: { name: 'reader both', scopes: ['users:read', 'directory:read'] } })).json();
    const both = await t.token(d.clientId, d.clientSecret);

    const urls = [
      ...['groups', 'roles', 'organizations', 'environments'].map((kind) => `/v1/users/${user.id}/${kind}`),
      `/v1/users?$filter=${encodeURIComponent("groups/any(g: g/name eq 'Engineering secrets')")}`,
      `/v1/users?$filter=${encodeURIComponent('roles/any(r: r/weight ge 10)')}`,
      `/v1/users?$filter=${encodeURIComponent("userName eq 'filter-member' or not roles/any(r: r/weight ge 0)")}`,
    ];
    for (const url of urls) {
      const denied = await t.request({ method: 'GET', url, token: reader });
      expect(denied.statusCode, `${url}: ${denied.body}`).toBe(403);
      expect(denied.json().detail).toContain('directory:read');
      expect((await t.request({ method: 'GET', url, token: both })).statusCode, url).toBe(200);
    }
    // Filters over the user's own fields stay open to users:read.
    expect((await t.request({ method: 'GET', url: `/v1/users?$filter=${encodeURIComponent("userName eq 'filter-member'")}`, token: reader })).statusCode).toBe(200);
  });
});

describe('identity provider secrets are decided by a declared schema per provider type', () => {
  const SECRET = 'TOP-SECRET-VALUE';
  let seq = 0;
  const alias = () => `idp-${++seq}`;
  const createIdp = (payload: Record<string, unknown>) => t.request({ method: 'POST', url: '/v1/identity-providers', token: admin, payload: { name: `IdP ${seq}`, alias: alias(), ...payload } });
  /** Everything a reader could see of a provider: the record, the list and its events. */
  const everythingAbout = async (id: string) =>
    [`/v1/identity-providers/${id}`, '/v1/identity-providers', `/v1/events?resourceId=${id}`]
      .map(async (url) => (await t.request({ method: 'GET', url, token: admin })).body)
      .reduce(async (all, body) => (await all) + (await body), Promise.resolve(''));
  const storedConfig = async (id: string) => {
    const row = await t.runtime.database.db.selectFrom('identity_providers').select('config').where('id', '=', id).executeTakeFirstOrThrow();
    return (typeof row.config === 'string' ? JSON.parse(row.config) : row.config) as Record<string, unknown>;
  };

  it('refuses config fields its type does not declare, wherever a secret might hide in them', async () => {
    const attempts = [
      { type: 'oidc', config: { oauth: { clientSecret: SECRET } } },
      { type: 'saml', config: { keys: [{ privateKey: SECRET }] } },
      { type: 'ldap', config: { credentials: SECRET } },
      { type: 'other', config: { token: SECRET } },
      { type: 'oidc', config: { settings: { nested: { clientSecret: SECRET } } } },
      { type: 'oidc', config: { secrets: { 'a.b': SECRET } } },
      { type: 'oidc', config: { clientSecret: { value: SECRET } } },
      { type: 'azure-ad', config: { scopes: SECRET } },
      { type: 'ldap', config: { startTls: 'yes' } },
    ];
    for (const payload of attempts) {
      const res = await createIdp(payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().code).toBe('request.validation_failed');
      expect(res.json().errors[0].field).toMatch(/^\/body\/config\//);
      expect(res.body).not.toContain(SECRET);
    }
    const unknown = (await createIdp({ type: 'oidc', config: { oauth: {} } })).json();
    expect(unknown.errors[0].message).toContain('is not a config field of oidc identity providers');
    expect(unknown.errors[0].message).toContain('clientSecret');
  });

  it('never shows a declared secret of any type, nor a secret whose name does not look like one', async () => {
    const cases: { type: string; config: Record<string, unknown>; secrets: string[] }[] = [
      { type: 'oidc', config: { issuer: 'https://op.example', clientId: 'roster', clientSecret: SECRET, clientPrivateKey: SECRET }, secrets: ['clientPrivateKey', 'clientSecret'] },
      { type: 'azure-ad', config: { tenantId: 'contoso', clientId: 'app', clientSecret: SECRET }, secrets: ['clientSecret'] },
      { type: 'google', config: { hostedDomain: 'example.com', serviceAccountPrivateKey: SECRET }, secrets: ['serviceAccountPrivateKey'] },
      { type: 'saml', config: { entityId: 'https://idp.example', spPrivateKey: SECRET, signRequests: true }, secrets: ['spPrivateKey'] },
      { type: 'ldap', config: { url: 'ldaps://dc.example', bindDn: 'cn=roster', bindPassword: SECRET, timeoutSeconds: 5 }, secrets: ['bindPassword'] },
      { type: 'other', config: { settings: { region: 'eu' }, secrets: { apiKey: SECRET, webhook: SECRET } }, secrets: ['secrets.apiKey', 'secrets.webhook'] },
    ];
    for (const { type, config, secrets } of cases) {
      const created = await createIdp({ type, config });
      expect(created.statusCode, created.body).toBe(201);
      const idp = created.json();
      expect(idp.configSecrets).toEqual(secrets);
      const shown = Object.fromEntries(Object.entries(config).filter(([k]) => !secrets.some((s) => s === k || s.startsWith(`${k}.`))));
      expect(idp.config).toEqual(shown);
      // A GET body echoed back by PUT keeps every secret; then a PATCH changes a shown field.
      const echoed = await t.request({ method: 'PUT', url: `/v1/identity-providers/${idp.id}`, token: admin, payload: { ...idp, enabled: false } });
      expect(echoed.statusCode, echoed.body).toBe(200);
      expect(echoed.json().configSecrets).toEqual(secrets);
      expect(await storedConfig(idp.id)).toEqual(config);
      await t.request({ method: 'PATCH', url: `/v1/identity-providers/${idp.id}`, token: admin, payload: { name: `renamed ${type}` } });
      expect(await everythingAbout(idp.id)).not.toContain(SECRET);
    }
  });

  it('keeps, adds and removes secrets on PUT and PATCH, by field and by map entry', async () => {
    const idp = (await createIdp({ type: 'oidc', config: { clientId: 'c', clientSecret: 'one', secrets: { apiKey: 'k1', hmac: 'h1' } } })).json();
    const put = (config: Record<string, unknown>, type = 'oidc') =>
      t.request({ method: 'PUT', url: `/v1/identity-providers/${idp.id}`, token: admin, payload: { name: idp.name, alias: idp.alias, type, config } });

    expect((await put({ clientId: 'c', secrets: { extra: 'e1' } })).json().configSecrets).toEqual(['clientSecret', 'secrets.apiKey', 'secrets.extra', 'secrets.hmac']);
    expect(await storedConfig(idp.id)).toEqual({ clientId: 'c', clientSecret: 'one', secrets: { apiKey: 'k1', hmac: 'h1', extra: 'e1' } });
    expect((await put({ clientId: 'c', clientSecret: 'two', secrets: { apiKey: null } })).json().configSecrets).toEqual(['clientSecret', 'secrets.extra', 'secrets.hmac']);
    expect((await storedConfig(idp.id)).clientSecret).toBe('two');

    const patched = await t.request({ method: 'PATCH', url: `/v1/identity-providers/${idp.id}`, token: admin, payload: { config: { clientSecret: null, secrets: { hmac: null } } } });
    expect(patched.json().configSecrets).toEqual(['secrets.extra']);
    expect((await put({ clientId: 'c', secrets: null })).json().configSecrets).toEqual([]);

    // A secret carries over to a type that declares it as a secret too, and not to one that does not.
    await put({ clientId: 'c', clientSecret: 'three' });
    expect((await put({ clientId: 'c' }, 'azure-ad')).json().configSecrets).toEqual(['clientSecret']);
    const ldap = await put({ url: 'ldap://dc' }, 'ldap');
    expect(ldap.statusCode).toBe(200);
    expect(ldap.json().configSecrets).toEqual([]);
    expect(await storedConfig(idp.id)).toEqual({ url: 'ldap://dc' });
    // A PATCH to a type whose schema does not fit the stored config says the new type needs its config.
    const misfit = await t.request({ method: 'PATCH', url: `/v1/identity-providers/${idp.id}`, token: admin, payload: { type: 'saml' } });
    expect(misfit.statusCode).toBe(400);
    expect(misfit.json().errors).toEqual([{ field: '/body/config', message: expect.stringMatching(/^changing type from ldap to saml needs a config for saml: the stored config has url, /) }]);
  });

  it('a PATCH changing the type without a config says the new type needs a config, not which stored fields misfit', async () => {
    const idp = (await createIdp({ type: 'oidc', config: { issuer: 'https://idp.example', clientId: 'c', clientSecret: SECRET } })).json();
    const patch = (payload: Record<string, unknown>) => t.request({ method: 'PATCH', url: `/v1/identity-providers/${idp.id}`, token: admin, payload });

    const bare = await patch({ type: 'other' });
    expect(bare.statusCode).toBe(400);
    expect(bare.json().errors).toEqual([{ field: '/body/config', message: expect.stringContaining('changing type from oidc to other needs a config for other') }]);
    expect(bare.json().detail).toContain('changing type from oidc to other needs a config for other');
    expect(bare.json().detail).not.toContain('/body/config/clientId');
    expect(bare.body).not.toContain(SECRET);

    // A field the client did send is still named on its own, beside the stored ones.
    const sent = await patch({ type: 'other', config: { clientId: 'kept', audience: 'x' } });
    expect(sent.json().errors).toEqual([
      { field: '/body/config', message: expect.stringContaining('the stored config has issuer, clientSecret,') },
      { field: '/body/config/clientId', message: expect.stringContaining('is not a config field of other') },
      { field: '/body/config/audience', message: expect.stringContaining('is not a config field of other') },
    ]);

    // With a config for the new type (null starts from an empty one) the change goes through.
    const moved = await patch({ type: 'other', config: null });
    expect(moved.statusCode, moved.body).toBe(200);
    expect(moved.json()).toMatchObject({ type: 'other', config: {} });
    expect((await patch({ type: 'oidc', config: { clientId: 'back' } })).statusCode).toBe(200);
  });

  it('withholds stored config fields its type does not declare (written before the schema existed)', async () => {
    const idp = (await createIdp({ type: 'oidc', config: { clientId: 'legacy' } })).json();
    const legacy = { clientId: 'legacy', oauth: { clientSecret: SECRET }, keys: [{ privateKey: SECRET }] };
    await t.runtime.database.db.updateTable('identity_providers').set({ config: JSON.stringify(legacy) }).where('id', '=', idp.id).execute();
    const shown = (await t.request({ method: 'GET', url: `/v1/identity-providers/${idp.id}`, token: admin })).json();
    expect(shown.config).toEqual({ clientId: 'legacy' });
    expect(shown.configSecrets).toEqual(['keys', 'oauth']);
    await t.request({ method: 'PATCH', url: `/v1/identity-providers/${idp.id}`, token: admin, payload: { config: { oauth: null, keys: null, clientId: 'now' } } });
    expect(await everythingAbout(idp.id)).not.toContain(SECRET);
    expect(await storedConfig(idp.id)).toEqual({ clientId: 'now' });
  });
});

describe('secrets stay out of the request log', () => {
  it('a client_secret or access_token sent in the query string is logged as [REDACTED], with the Authorization header', async () => {
    const lines: string[] = [];
    const app = await buildApp({ config: t.config, services: t.runtime.services, logger: { level: 'info', stream: { write: (line) => void lines.push(line) } } });
    try {
      await app.inject({ method: 'POST', url: `/v1/oauth/token?grant_type=client_credentials&client_id=test-admin&client_secret=LEAKY-SECRET-1` });
      await app.inject({ method: 'GET', url: '/v1/users?access_token=LEAKY-TOKEN-2', headers: { authorization: 'Bearer LEAKY-BEARER-3' } });
    } finally {
      await app.close();
    }
    const log = lines.join('');
    expect(log).toContain('/v1/oauth/token?grant_type=client_credentials&client_id=test-admin&client_secret=[REDACTED]');
    expect(log).toContain('access_token=[REDACTED]');
    for (const secret of ['LEAKY-SECRET-1', 'LEAKY-TOKEN-2', 'LEAKY-BEARER-3']) expect(log).not.toContain(secret);
  });
});
