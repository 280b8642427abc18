import { AppError } from '../errors/app-error.js';
import type { Clock } from '../lib/clock.js';
import { DEFAULT_TENANT_ID, isInstallationAdmin, type Principal } from '../domain/principal.js';
import type { Store } from '../repositories/store.js';
import type { Tenant } from '../domain/tenant.js';

export class TenantService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  async create(principal: Principal, input: { id: string; name: string }): Promise<Tenant> {
    requireInstallationAdmin(principal);
    const now = this.clock.now().toISOString();
    const tenant: Tenant = { id: input.id, name: input.name, createdAt: now, updatedAt: now };
    await this.store.transaction((repos) => repos.tenants.insert(tenant));
    return tenant;
  }

  async list(principal: Principal, limit: number, after?: string): Promise<Tenant[]> {
    requireInstallationAdmin(principal);
    return this.store.repos.tenants.list(limit, after);
  }

  async get(principal: Principal, id: string): Promise<Tenant> {
    requireInstallationAdmin(principal);
    const tenant = await this.store.repos.tenants.findById(id);
    if (!tenant) throw new AppError('tenant.not_found');
    return tenant;
  }

  /**
   * Deletes the tenant and, by cascade, every user, credential and event it holds. Its access and
   * API tokens stop working at once in every process, and stay dead if a tenant of the same id is
   * created again (TokenService.authenticate).
   */
  async delete(principal: Principal, id: string): Promise<void> {
    requireInstallationAdmin(principal);
    if (id === DEFAULT_TENANT_ID) throw new AppError('tenant.default_protected');
    const deleted = await this.store.transaction((repos) => repos.tenants.delete(id));
    if (!deleted) throw new AppError('tenant.not_found');
  }
}

export function requireInstallationAdmin(principal: Principal): void {
  if (!isInstallationAdmin(principal)) {
    throw new AppError('auth.forbidden', 'Only an admin of the default tenant can manage tenants.');
  }
}
