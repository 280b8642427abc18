import type { Kysely, Selectable } from 'kysely';
import type { DB, RefreshTokenTable } from '../db/schema.js';
import type { RefreshToken } from '../domain/credential.js';
import { splitScopes } from './api-client-repository.js';

/** Refresh tokens and the deny-list of revoked access tokens (RFC 7009). */
export class OAuthTokenRepository {
  constructor(private readonly db: Kysely<DB>) {}

  async findRefreshByHash(tokenHash: string): Promise<RefreshToken | undefined> {
    const row = await this.db.selectFrom('refresh_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
    return row && toRefresh(row);
  }

  async insertRefresh(token: RefreshToken): Promise<void> {
    await this.db
      .insertInto('refresh_tokens')
      .values({
        id: token.id,
        tenant_id: token.tenantId,
        client_ref: token.clientRef,
        family_id: token.familyId,
        token_hash: token.tokenHash,
        scopes: token.scopes.join(' '),
        expires_at: token.expiresAt,
        used_at: null,
        revoked_at: null,
        created_at: token.createdAt,
      })
      .execute();
  }

  /** Marks a refresh token spent; false when another request spent it first (a replay race). */
  async markUsed(id: string, at: string): Promise<boolean> {
    const result = await this.db
      .updateTable('refresh_tokens')
      .set({ used_at: at })
      .where('id', '=', id)
      .where('used_at', 'is', null)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async revokeFamily(familyId: string, at: string): Promise<void> {
    await this.db.updateTable('refresh_tokens').set({ revoked_at: at }).where('family_id', '=', familyId).where('revoked_at', 'is', null).execute();
  }

  async revokeAllForClient(clientRef: string, at: string): Promise<void> {
    await this.db.updateTable('refresh_tokens').set({ revoked_at: at }).where('client_ref', '=', clientRef).where('revoked_at', 'is', null).execute();
  }

  async revokeAccessToken(jti: string, tenantId: string, expiresAt: string): Promise<void> {
    await this.db
      .insertInto('revoked_access_tokens')
      .values({ jti, tenant_id: tenantId, expires_at: expiresAt })
      .onConflict((oc) => oc.column('jti').doNothing())
      .execute();
  }

  async isAccessTokenRevoked(jti: string): Promise<boolean> {
    const row = await this.db.selectFrom('revoked_access_tokens').select('jti').where('jti', '=', jti).executeTakeFirst();
    return row !== undefined;
  }

  /** Housekeeping: expired entries can no longer be presented, so they need not be remembered. */
  async purgeExpired(now: string): Promise<void> {
    await this.db.deleteFrom('revoked_access_tokens').where('expires_at', '<', now).execute();
    await this.db.deleteFrom('refresh_tokens').where('expires_at', '<', now).execute();
  }
}

function toRefresh(row: Selectable<RefreshTokenTable>): RefreshToken {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    clientRef: row.client_ref,
    familyId: row.family_id,
    tokenHash: row.token_hash,
    scopes: splitScopes(row.scopes),
    expiresAt: row.expires_at,
    usedAt: row.used_at,
    revokedAt: row.revoked_at,
    createdAt: row.created_at,
  };
}
