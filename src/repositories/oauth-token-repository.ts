import { sql, type Kysely, type Selectable } from 'kysely';
import type { DB, RefreshTokenTable } from '../db/schema.js';
import type { RefreshToken } from '../domain/credential.js';
import { storedScimSettings, type StoredScimSettings } from '../domain/principal.js';
import { splitScopes } from './api-client-repository.js';

/** What an access token's client row says on a request (OAuthTokenRepository.accessTokenStanding). */
export type AccessTokenStanding = { state: 'gone' } | { state: 'revoked' } | { state: 'active'; scim: StoredScimSettings };

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

  /**
   * Puts an access token on the deny-list until it expires. Nothing is written when its client is
   * gone (deleted, or with its tenant): such a token is refused anyway, and the row would point
   * at a tenant that no longer exists.
   */
  async revokeAccessToken(jti: string, tenantId: string, clientRef: string, expiresAt: string): Promise<void> {
    await this.db
      .insertInto('revoked_access_tokens')
      .columns(['jti', 'tenant_id', 'expires_at'])
      .expression(
        this.db
          .selectFrom('api_clients')
          .select([sql.val(jti).as('jti'), sql.val(tenantId).as('tenant_id'), sql.val(expiresAt).as('expires_at')])
          .where('id', '=', clientRef)
          .where('tenant_id', '=', tenantId),
      )
      .onConflict((oc) => oc.column('jti').doNothing())
      .execute();
  }

  /**
   * Whether an access token may still act, in one indexed lookup: `gone` when the api_clients
   * row it was issued to no longer exists in its tenant (the client or the tenant was deleted; a
   * recreated one has another row id), `revoked` when it is on the deny-list (RFC 7009);
   * otherwise `active` with the client's SCIM settings, read in the same query because they can
   * change with the row and the token carries none.
   */
  async accessTokenStanding(tenantId: string, clientRef: string, jti: string): Promise<AccessTokenStanding> {
    // SQL text, not the builder: it runs for every authenticated request (see EventRepository.takePositions).
    const { rows } = await sql<{ jti: string | null; scim_origin: string | null; scim_owns: string | null; scim_on_delete: string | null }>`
      select r.jti, c.scim_origin, c.scim_owns, c.scim_on_delete from api_clients as c left join revoked_access_tokens as r on r.jti = ${jti}
      where c.id = ${clientRef} and c.tenant_id = ${tenantId}`.execute(this.db);
    const row = rows[0];
    if (!row) return { state: 'gone' };
    if (row.jti !== null) return { state: 'revoked' };
    return { state: 'active', scim: storedScimSettings(row.scim_origin, row.scim_owns, row.scim_on_delete) };
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
