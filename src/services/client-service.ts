import { AppError } from '../errors/app-error.js';
import type { Clock } from '../lib/clock.js';
import { newId } from '../lib/ids.js';
import { randomToken, type SecretHasher } from '../lib/secrets.js';
import { DEFAULT_TENANT_ID, NO_STORED_SCIM_SETTINGS, isInstallationAdmin, type Principal, type Scope, type StoredScimSettings } from '../domain/principal.js';
import type { ApiClient } from '../domain/credential.js';
import type { Store } from '../repositories/store.js';
import { grantableScopes, scimSettingsToStore, type ScimSettingsInput } from './scope-rules.js';

export interface CreateClientInput extends ScimSettingsInput {
  name: string;
  scopes: string[];
  tenantId?: string | undefined;
  clientId?: string | undefined;
}

export interface BootstrapResult {
  clientId: string;
  /** Present only when the secret was generated now: it is shown once and never stored. */
  generatedSecret?: string;
}

/** An unknown (or, for a tenant's own admin, another) tenant named in a request body. */
const bodyTenantNotFound = (id: string): AppError =>
  new AppError('client.tenant_not_found', `No tenant with id ${id}.`, [{ field: '/body/tenantId', message: 'no such tenant' }]);

/** Service accounts: a client id and secret with scopes, belonging to one tenant. */
export class ClientService {
  constructor(
    private readonly store: Store,
    private readonly hasher: SecretHasher,
    private readonly clock: Clock,
  ) {}

  async create(principal: Principal, input: CreateClientInput): Promise<{ client: ApiClient; secret: string }> {
    // The tenant is an id inside the body: an unknown one is a 422 (404 is for the URL's own ids).
    const tenantId = this.targetTenant(principal, input.tenantId, bodyTenantNotFound);
    const scopes = grantableScopes(principal, input.scopes);
    const scim = scimSettingsToStore(scopes, input);
    if (!(await this.store.repos.tenants.findById(tenantId))) throw bodyTenantNotFound(tenantId);
    return this.insertClient(tenantId, input.name, scopes, input.clientId, undefined, scim);
  }

  /** The clients of the caller's tenant, or of another (installation admins); 404 tenant.not_found for one that does not exist, as in the CLI. */
  async list(principal: Principal, tenantId: string | undefined, limit: number, after?: string): Promise<ApiClient[]> {
    const target = this.targetTenant(principal, tenantId);
    if (target !== principal.tenantId && !(await this.store.repos.tenants.findById(target))) throw new AppError('tenant.not_found', `No tenant with id ${target}.`);
    return this.store.repos.clients.list(target, limit, after);
  }

  async get(principal: Principal, id: string): Promise<ApiClient> {
    const client = await this.store.repos.clients.findById(principal.tenantId, id);
    if (!client) throw new AppError('client.not_found');
    return client;
  }

  /** Deleting a client kills its refresh tokens (cascade) and, at once, its access tokens (TokenService.authenticate). */
  async delete(principal: Principal, id: string): Promise<void> {
    const deleted = await this.store.transaction((repos) => repos.clients.delete(principal.tenantId, id));
    if (!deleted) throw new AppError('client.not_found');
  }

  /**
   * A new secret replaces the old at once, and every refresh token of the client is revoked
   * (tokens being issued at that moment wait for the rotation or are revoked with the rest: see
   * TokenService). 404 when the client does not exist, also when it was deleted meanwhile.
   */
  async rotateSecret(principal: Principal, id: string): Promise<{ client: ApiClient; secret: string }> {
    const client = await this.get(principal, id);
    const secret = randomToken('rcs_');
    const secretHash = await this.hasher.hash(secret);
    const now = this.clock.now().toISOString();
    const rotated = await this.store.transaction(async (repos) => {
      if (!(await repos.clients.updateSecret(client.id, secretHash, now))) return false;
      await repos.oauthTokens.revokeAllForClient(client.id, now);
      return true;
    });
    if (!rotated) throw new AppError('client.not_found');
    return { client: { ...client, secretHash, updatedAt: now }, secret };
  }

  /**
   * First start: the default tenant and an admin client exist afterwards. Credentials from the
   * environment win (an operator rotating ROSTER_ADMIN_CLIENT_SECRET just restarts); without
   * them a secret is generated once and returned for printing.
   */
  async bootstrap(credentials: { clientId: string; clientSecret: string } | undefined): Promise<BootstrapResult | undefined> {
    const now = this.clock.now().toISOString();
    if (!(await this.store.repos.tenants.findById(DEFAULT_TENANT_ID))) {
      try {
        await this.store.transaction((repos) => repos.tenants.insert({ id: DEFAULT_TENANT_ID, name: 'Default', createdAt: now, updatedAt: now }));
      } catch (error) {
        // Another process starting at the same moment created it first: that is fine.
        if (!(error instanceof AppError && error.code === 'tenant.id_taken')) throw error;
      }
    }
    if (credentials) {
      let existing = await this.store.repos.clients.findByClientId(credentials.clientId);
      if (!existing) {
        try {
          await this.insertClient(DEFAULT_TENANT_ID, 'Bootstrap admin', ['admin'], credentials.clientId, credentials.clientSecret);
          return { clientId: credentials.clientId };
        } catch (error) {
          // Another process starting at the same moment inserted it first: check its secret below.
          if (!(error instanceof AppError && error.code === 'client.id_taken')) throw error;
          existing = await this.store.repos.clients.findByClientId(credentials.clientId);
        }
      }
      if (existing && !(await this.hasher.verify(existing.secretHash, credentials.clientSecret))) {
        // A changed ROSTER_ADMIN_CLIENT_SECRET replaces the old secret, as rotate-secret does:
        // the old one stops working and so do the refresh tokens issued under it.
        const secretHash = await this.hasher.hash(credentials.clientSecret);
        await this.store.transaction(async (repos) => {
          await repos.clients.updateSecret(existing.id, secretHash, now);
          await repos.oauthTokens.revokeAllForClient(existing.id, now);
        });
      }
      return { clientId: credentials.clientId };
    }
    if ((await this.store.repos.clients.list(DEFAULT_TENANT_ID, 1)).length > 0) return undefined;
    // Several processes starting at once on an empty database: one generates the admin, under a
    // lock, and the others see it there (and print nothing).
    const { client, secret } = await this.newClient(DEFAULT_TENANT_ID, 'Bootstrap admin', ['admin']);
    const created = await this.store.transaction(async (repos) => {
      await repos.locks.acquire(DEFAULT_TENANT_ID, 'bootstrap');
      if ((await repos.clients.list(DEFAULT_TENANT_ID, 1)).length > 0) return false;
      await repos.clients.insert(client);
      return true;
    });
    return created ? { clientId: client.clientId, generatedSecret: secret } : undefined;
  }

  private targetTenant(principal: Principal, requested: string | undefined, notFound: (id: string) => AppError = () => new AppError('tenant.not_found')): string {
    if (requested === undefined || requested === principal.tenantId) return principal.tenantId;
    if (!isInstallationAdmin(principal)) {
      // Indistinguishable from a tenant that does not exist: tenants are not enumerable.
      throw notFound(requested);
    }
    return requested;
  }

  private async insertClient(tenantId: string, name: string, scopes: Scope[], clientId?: string, secret?: string, scim?: StoredScimSettings): Promise<{ client: ApiClient; secret: string }> {
    const created = await this.newClient(tenantId, name, scopes, clientId, secret, scim);
    await this.store.transaction((repos) => repos.clients.insert(created.client));
    return created;
  }

  /** A client record with a hashed secret (generated unless given), not stored yet. */
  private async newClient(
    tenantId: string,
    name: string,
    scopes: Scope[],
    clientId?: string,
    secret?: string,
    scim: StoredScimSettings = NO_STORED_SCIM_SETTINGS,
  ): Promise<{ client: ApiClient; secret: string }> {
    const plainSecret = secret ?? randomToken('rcs_');
    const now = this.clock.now().toISOString();
    const client: ApiClient = {
      id: newId(),
      tenantId,
      clientId: clientId ?? randomToken('rc_', 12),
      name,
      secretHash: await this.hasher.hash(plainSecret),
      scopes,
      scim,
      createdAt: now,
      updatedAt: now,
    };
    return { client, secret: plainSecret };
  }
}
