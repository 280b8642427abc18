import { toDbBool } from '../../src/db/booleans.js';
import { newId } from '../../src/lib/ids.js';
import type { TestApp } from './test-app.js';

/**
 * Directory records for membership tests, inserted straight into the database (the directory
 * CRUD API is built separately; these fixtures may later switch to it). Each returns the id.
 */
let seq = 0;
const unique = (prefix: string) => `${prefix}-${++seq}-${Date.now().toString(36)}`;

function frame(tenantId: string, name: string) {
  const now = new Date().toISOString();
  return { id: newId(), tenant_id: tenantId, name, name_lower: name.toLowerCase(), created_at: now, updated_at: now, version: 1 };
}

export interface FixtureOptions {
  tenantId?: string;
  name?: string;
}

export async function createRole(t: TestApp, options: FixtureOptions & { weight?: number } = {}): Promise<{ id: string; name: string; weight: number }> {
  const row = { ...frame(options.tenantId ?? 'default', options.name ?? unique('role')), weight: options.weight ?? 0, permissions: '[]', description: null };
  await t.runtime.database.db.insertInto('roles').values(row).execute();
  return { id: row.id, name: row.name, weight: row.weight };
}

export async function createGroup(t: TestApp, options: FixtureOptions = {}): Promise<{ id: string; name: string }> {
  const row = { ...frame(options.tenantId ?? 'default', options.name ?? unique('group')), external_ids: '[]', description: null };
  await t.runtime.database.db.insertInto('groups').values(row).execute();
  return { id: row.id, name: row.name };
}

export async function createOrganization(t: TestApp, options: FixtureOptions & { code?: string } = {}): Promise<{ id: string; name: string; code: string }> {
  const code = options.code ?? unique('ORG');
  const row = { ...frame(options.tenantId ?? 'default', options.name ?? unique('org')), code, code_lower: code.toLowerCase(), parent_id: null };
  await t.runtime.database.db.insertInto('organizations').values(row).execute();
  return { id: row.id, name: row.name, code };
}

export async function createEnvironment(t: TestApp, options: FixtureOptions = {}): Promise<{ id: string; name: string }> {
  const row = { ...frame(options.tenantId ?? 'default', options.name ?? unique('env')), description: null };
  await t.runtime.database.db.insertInto('environments').values(row).execute();
  return { id: row.id, name: row.name };
}

export async function createIdentityProvider(t: TestApp, options: FixtureOptions & { alias?: string } = {}): Promise<{ id: string; name: string; alias: string }> {
  const alias = options.alias ?? unique('idp');
  const row = {
    ...frame(options.tenantId ?? 'default', options.name ?? unique('provider')),
    alias,
    alias_lower: alias.toLowerCase(),
    type: 'oidc',
    enabled: toDbBool(t.runtime.database.dialect, true),
    config: '{}',
  };
  await t.runtime.database.db.insertInto('identity_providers').values(row).execute();
  return { id: row.id, name: row.name, alias };
}

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
