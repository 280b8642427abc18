import type { Kysely, Selectable } from 'kysely';
import type { Dialect } from '../db/database.js';
import type { ApiClientTable, DB } from '../db/schema.js';
import type { ApiClient } from '../domain/credential.js';
import { storedScimSettings, type Scope, type StoredScimSettings } from '../domain/principal.js';

export class ApiClientRepository {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly dialect: Dialect,
  ) {}

  async findByClientId(clientId: string): Promise<ApiClient | undefined> {
    const row = await this.db.selectFrom('api_clients').selectAll().where('client_id', '=', clientId).executeTakeFirst();
    return row && toClient(row);
  }

  async findById(tenantId: string, id: string): Promise<ApiClient | undefined> {
    const row = await this.db
      .selectFrom('api_clients')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row && toClient(row);
  }

  /**
   * The client, held FOR SHARE until the transaction ends on PostgreSQL, for issuing tokens: a
   * concurrent secret rotation or delete of the client waits until the tokens are stored (and
   * then revokes or deletes them with the others), or the issuer sees the new secret or no client.
   */
  async findByIdForShare(tenantId: string, id: string): Promise<ApiClient | undefined> {
    const row = await this.db
      .selectFrom('api_clients')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .$if(this.dialect === 'postgres', (q) => q.forShare())
      .executeTakeFirst();
    return row && toClient(row);
  }

  async list(tenantId: string, limit: number, after?: string): Promise<ApiClient[]> {
    let query = this.db.selectFrom('api_clients').selectAll().where('tenant_id', '=', tenantId).orderBy('id').limit(limit);
    if (after !== undefined) query = query.where('id', '>', after);
    return (await query.execute()).map(toClient);
  }

  async insert(client: ApiClient): Promise<void> {
    await this.db
      .insertInto('api_clients')
      .values({
        id: client.id,
        tenant_id: client.tenantId,
        client_id: client.clientId,
        name: client.name,
        secret_hash: client.secretHash,
        scopes: client.scopes.join(' '),
        ...scimColumns(client.scim),
        created_at: client.createdAt,
        updated_at: client.updatedAt,
      })
      .execute();
  }

  /** Replaces the secret's hash; false when the client no longer exists. */
  async updateSecret(id: string, secretHash: string, updatedAt: string): Promise<boolean> {
    const result = await this.db.updateTable('api_clients').set({ secret_hash: secretHash, updated_at: updatedAt }).where('id', '=', id).executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async delete(tenantId: string, id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('api_clients').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }
}

function toClient(row: Selectable<ApiClientTable>): ApiClient {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    clientId: row.client_id,
    name: row.name,
    secretHash: row.secret_hash,
    scopes: splitScopes(row.scopes),
    scim: storedScimSettings(row.scim_origin, row.scim_owns, row.scim_on_delete),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export const splitScopes = (value: string): Scope[] => (value === '' ? [] : (value.split(' ') as Scope[]));

/** The three SCIM columns of a credential row (api_clients, api_tokens) from its stored settings. */
export const scimColumns = (scim: StoredScimSettings): { scim_origin: string | null; scim_owns: string | null; scim_on_delete: string | null } => ({
  scim_origin: scim.origin,
  scim_owns: scim.owns,
  scim_on_delete: scim.onDelete,
});
