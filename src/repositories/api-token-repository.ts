import type { Kysely, Selectable } from 'kysely';
import type { ApiTokenTable, DB } from '../db/schema.js';
import type { ApiToken } from '../domain/credential.js';
import { scimColumns, splitScopes } from './api-client-repository.js';
import { storedScimSettings } from '../domain/principal.js';

export class ApiTokenRepository {
  constructor(private readonly db: Kysely<DB>) {}

  async findByHash(tokenHash: string): Promise<ApiToken | undefined> {
    const row = await this.db.selectFrom('api_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
    return row && toToken(row);
  }

  async findById(tenantId: string, id: string): Promise<ApiToken | undefined> {
    const row = await this.db.selectFrom('api_tokens').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
    return row && toToken(row);
  }

  async list(tenantId: string, limit: number, after?: string): Promise<ApiToken[]> {
    let query = this.db.selectFrom('api_tokens').selectAll().where('tenant_id', '=', tenantId).orderBy('id').limit(limit);
    if (after !== undefined) query = query.where('id', '>', after);
    return (await query.execute()).map(toToken);
  }

  async insert(token: ApiToken): Promise<void> {
    await this.db
      .insertInto('api_tokens')
      .values({
        id: token.id,
        tenant_id: token.tenantId,
        name: token.name,
        token_hash: token.tokenHash,
        token_prefix: token.tokenPrefix,
        scopes: token.scopes.join(' '),
        ...scimColumns(token.scim),
        created_by: token.createdBy,
        expires_at: token.expiresAt,
        last_used_at: null,
        created_at: token.createdAt,
      })
      .execute();
  }

  async touch(id: string, at: string): Promise<void> {
    await this.db.updateTable('api_tokens').set({ last_used_at: at }).where('id', '=', id).execute();
  }

  async delete(tenantId: string, id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('api_tokens').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }
}

function toToken(row: Selectable<ApiTokenTable>): ApiToken {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    name: row.name,
    tokenHash: row.token_hash,
    tokenPrefix: row.token_prefix,
    scopes: splitScopes(row.scopes),
    scim: storedScimSettings(row.scim_origin, row.scim_owns, row.scim_on_delete),
    createdBy: row.created_by,
    expiresAt: row.expires_at,
    lastUsedAt: row.last_used_at,
    createdAt: row.created_at,
  };
}
