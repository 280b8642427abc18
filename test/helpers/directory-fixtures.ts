import type { TestApp } from './test-app.js';

/** Directory records for tests, created through the API (the admin's tenant unless a token says otherwise). */
let seq = 0;
const unique = (prefix: string) => `${prefix}-${++seq}-${Date.now().toString(36)}`;

export interface FixtureOptions {
  /** A token of another tenant, to create the record there. */
  token?: string;
  name?: string;
}

async function create<T>(t: TestApp, path: string, options: FixtureOptions, payload: Record<string, unknown>): Promise<T> {
  const res = await t.request({ method: 'POST', url: `/v1/${path}`, token: options.token ?? (await t.adminToken()), payload });
  if (res.statusCode !== 201) throw new Error(`${path}: ${res.statusCode} ${res.body}`);
  return res.json() as T;
}

export const createRole = (t: TestApp, options: FixtureOptions & { weight?: number } = {}) =>
  create<{ id: string; name: string; weight: number }>(t, 'roles', options, { name: options.name ?? unique('role'), weight: options.weight ?? 0 });

export const createGroup = (t: TestApp, options: FixtureOptions = {}) => create<{ id: string; name: string }>(t, 'groups', options, { name: options.name ?? unique('group') });

export const createOrganization = (t: TestApp, options: FixtureOptions & { code?: string } = {}) =>
  create<{ id: string; name: string; code: string }>(t, 'organizations', options, { name: options.name ?? unique('org'), code: options.code ?? unique('ORG') });

export const createEnvironment = (t: TestApp, options: FixtureOptions = {}) => create<{ id: string; name: string }>(t, 'environments', options, { name: options.name ?? unique('env') });

export const createIdentityProvider = (t: TestApp, options: FixtureOptions & { alias?: string } = {}) =>
  create<{ id: string; name: string; alias: string }>(t, 'identity-providers', options, { name: options.name ?? unique('provider'), alias: options.alias ?? unique('idp'), type: 'oidc' });

/** Every kind by its URL segment, for tests that run the same checks over all four. */
export const createTarget = {
  roles: (t: TestApp, o?: FixtureOptions) => createRole(t, o),
  groups: (t: TestApp, o?: FixtureOptions) => createGroup(t, o),
  organizations: (t: TestApp, o?: FixtureOptions) => createOrganization(t, o),
  environments: (t: TestApp, o?: FixtureOptions) => createEnvironment(t, o),
} as const;

/** A second tenant with a client holding every scope there; returns its token. */
export async function createOtherTenant(t: TestApp, id: string): Promise<string> {
  const admin = await t.adminToken();
  const tenant = await t.request({ method: 'POST', url: '/v1/tenants', token: admin, payload: { id, name: id } });
  if (tenant.statusCode !== 201) throw new Error(`tenant: ${tenant.statusCode} ${tenant.body}`);
  const client = await t.request({ method: 'POST', url: '/v1/clients', token: admin, payload: { name: `${id} admin`, scopes: ['admin'], tenantId: id } });
  if (client.statusCode !== 201) throw new Error(`client: ${client.statusCode} ${client.body}`);
  const { clientId, clientSecret } = client.json() as { clientId: string; clientSecret: string };
  return t.token(clientId, clientSecret);
}

/** A client of the default tenant with exactly these scopes; returns its token. */
export async function tokenWithScopes(t: TestApp, scopes: string[]): Promise<string> {
  const admin = await t.adminToken();
  const client = await t.request({ method: 'POST', url: '/v1/clients', token: admin, payload: { name: `scoped ${scopes.join(' ')}`, scopes } });
  if (client.statusCode !== 201) throw new Error(`client: ${client.statusCode} ${client.body}`);
  const { clientId, clientSecret } = client.json() as { clientId: string; clientSecret: string };
  return t.token(clientId, clientSecret);
}
