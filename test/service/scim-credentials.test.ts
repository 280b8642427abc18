import { describe, expect, it } from 'vitest';
import { useServiceRuntime, type ServiceRuntime } from '../helpers/service-runtime.js';

let s: ServiceRuntime;
useServiceRuntime((ready) => (s = ready));

let seq = 0;
const name = (prefix: string) => `${prefix}-${++seq}`;

/** An access token of a new client with `scopes` and SCIM settings, optionally narrowed to `scope`. */
async function clientToken(input: { scopes: string[]; origin?: string; owns?: 'own' | 'all'; onDelete?: 'delete' | 'suspend' }, scope?: string) {
  const { client, secret } = await s.runtime.services.clients.create(s.principal, { name: name('client'), ...input });
  const issued = await s.runtime.services.tokens.clientCredentials({ clientId: client.clientId, clientSecret: secret }, scope);
  return { client, accessToken: issued.access_token };
}

describe('principal.scim of an API token', () => {
  it('holds the stored settings of a scim token', async () => {
    const { secret } = await s.runtime.services.apiTokens.create(s.principal, { name: name('token'), scopes: ['scim'], origin: 'entra', owns: 'all', onDelete: 'suspend' });
    const principal = await s.runtime.services.tokens.authenticate(secret);
    expect(principal).toMatchObject({ actorType: 'api_token', scopes: ['scim'], scim: { origin: 'entra', owns: 'all', onDelete: 'suspend' } });
  });

  it('holds the defaults for an admin token with none stored, and is absent without scim', async () => {
    const admin = await s.runtime.services.apiTokens.create(s.principal, { name: name('token'), scopes: ['admin'] });
    expect((await s.runtime.services.tokens.authenticate(admin.secret)).scim).toEqual({ origin: 'scim', owns: 'own', onDelete: 'delete' });
    const writer = await s.runtime.services.apiTokens.create(s.principal, { name: name('token'), scopes: ['users:write'] });
    const principal = await s.runtime.services.tokens.authenticate(writer.secret);
    expect(principal.scopes).toEqual(['users:write']);
    expect(principal).not.toHaveProperty('scim');
  });
});

describe('principal.scim of a client access token', () => {
  it('holds the client row settings, read on every request', async () => {
    const { client, accessToken } = await clientToken({ scopes: ['scim'], origin: 'okta', onDelete: 'suspend' });
    const principal = await s.runtime.services.tokens.authenticate(accessToken);
    expect(principal).toMatchObject({ actorType: 'client', actorId: client.clientId, scim: { origin: 'okta', owns: 'own', onDelete: 'suspend' } });

    // The token carries no settings: a change to the row acts on the next request of the same token.
    await s.runtime.database.db.updateTable('api_clients').set({ scim_owns: 'all', scim_on_delete: null }).where('id', '=', client.id).execute();
    expect((await s.runtime.services.tokens.authenticate(accessToken)).scim).toEqual({ origin: 'okta', owns: 'all', onDelete: 'delete' });
  });

  it('is absent when the token was narrowed below scim, and present (defaults) for an admin client', async () => {
    const narrowed = await clientToken({ scopes: ['scim', 'users:read'], origin: 'okta' }, 'users:read');
    const principal = await s.runtime.services.tokens.authenticate(narrowed.accessToken);
    expect(principal.scopes).toEqual(['users:read']);
    expect(principal).not.toHaveProperty('scim');

    const admin = await clientToken({ scopes: ['admin'] });
    expect((await s.runtime.services.tokens.authenticate(admin.accessToken)).scim).toEqual({ origin: 'scim', owns: 'own', onDelete: 'delete' });
  });

  it('is refused with the client once it is deleted, as before', async () => {
    const { client, accessToken } = await clientToken({ scopes: ['scim'] });
    await s.runtime.services.clients.delete(s.principal, client.id);
    await expect(s.runtime.services.tokens.authenticate(accessToken)).rejects.toMatchObject({ code: 'auth.invalid_token' });
  });
});
