import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.js';
import type { Tenant } from '../domain/tenant.js';

export class TenantRepository {
  constructor(private readonly db: Kysely<DB>) {}

  async findById(id: string): Promise<Tenant | undefined> {
    const row = await this.db.selectFrom('tenants').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toTenant(row);
  }

  async list(limit: number, after?: string): Promise<Tenant[]> {
    let query = this.db.selectFrom('tenants').selectAll().orderBy('id').limit(limit);
    if (after !== undefined) query = query.where('id', '>', after);
    return (await query.execute()).map(toTenant);
  }

  async insert(tenant: Tenant): Promise<void> {
    await this.db
      .insertInto('tenants')
      .values({ id: tenant.id, name: tenant.name, created_at: tenant.createdAt, updated_at: tenant.updatedAt })
      .execute();
  }

  /** Every tenant-scoped table cascades from tenants, so this removes the tenant's whole data set. */
  async delete(id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('tenants').where('id', '=', id).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }
}

function toTenant(row: { id: string; name: string; created_at: string; updated_at: string }): Tenant {
  return { id: row.id, name: row.name, createdAt: row.created_at, updatedAt: row.updated_at };
}
