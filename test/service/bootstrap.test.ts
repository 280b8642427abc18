import { describe, expect, it } from 'vitest';
import { useServiceRuntime, type ServiceRuntime } from '../helpers/service-runtime.js';

let s: ServiceRuntime;
useServiceRuntime((ready) => (s = ready));

const OLD = { clientId: 'svc-admin', clientSecret: 'svc-admin-secret-0123456789' };
const NEW = { clientId: 'svc-admin', clientSecret: 'replaced-admin-secret-9876543210' };

describe('bootstrap on a second start', () => {
  it('without credentials in the environment, creates nothing and returns no secret once an admin client exists', async () => {
    const before = await s.runtime.services.clients.list(s.principal, 'default', 100);
    expect(await s.runtime.services.clients.bootstrap(undefined)).toBeUndefined();
    expect(await s.runtime.services.clients.list(s.principal, 'default', 100)).toEqual(before);
  });

  it('a changed ROSTER_ADMIN_CLIENT_SECRET replaces the old secret and revokes the refresh tokens issued under it', async () => {
    const { tokens, clients } = s.runtime.services;
    const issued = await tokens.clientCredentials(OLD, undefined);
    expect(issued.refresh_token).toBeDefined();

    expect(await clients.bootstrap(NEW)).toEqual({ clientId: 'svc-admin' });

    await expect(tokens.clientCredentials(OLD, undefined)).rejects.toMatchObject({ error: 'invalid_client' });
    await expect(tokens.refresh(issued.refresh_token!, undefined, undefined)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect((await tokens.clientCredentials(NEW, undefined)).scope).toBe('admin');

    // The same secret again (the next restart) changes nothing: tokens issued meanwhile live on.
    const current = await tokens.clientCredentials(NEW, undefined);
    await clients.bootstrap(NEW);
    expect((await tokens.refresh(current.refresh_token!, undefined, undefined)).access_token).toBeDefined();
  });
});
